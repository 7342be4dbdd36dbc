// The composer's images (_post_compose_fields.html): an "Add images" button, drag and drop onto the form
// and paste from the clipboard; a preview of each image with a remove button beside its alt text box;
// checks of type, size and count as the files come in, said in a live region; and a warning before
// posting an image without a description. The chosen files go into the form's own file slots
// (media-0 ... media-3) through DataTransfer, so the form posts them as it does without JavaScript.
// Limits and words come from the server, as data attributes of the .compose-media element.
(function () {
  "use strict";

  if (typeof DataTransfer !== "function" || !window.URL || !URL.createObjectURL) { return; }
  try { new DataTransfer().items.add(new File([""], "probe.png", {type: "image/png"})); } catch (e) { return; }

  function fill(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, function (all, name) {
      return name in values ? values[name] : all;
    });
  }

  function hasFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") >= 0;
  }

  function enhance(box) {
    var form = box.closest("form");
    var details = box.querySelector("details.compose-media-fallback");
    var slotsBox = box.querySelector(".compose-media-slots");
    if (!form || !details || !slotsBox) { return; }
    var words = box.dataset;
    var maxFiles = parseInt(words.maxFiles, 10) || 4;
    var maxBytes = parseInt(words.maxBytes, 10) || Infinity;
    var types = (words.types || "").split(",");
    var items = [];  // {file, url, alt}: the chosen images, in order; items[i] is in slot i
    var confirmed = false;

    // -- the page: the enhanced controls replace the <details> ---------------------------------------
    var tools = document.createElement("div");
    tools.className = "compose-media-tools mb-2";
    var add = document.createElement("button");
    add.type = "button";
    add.className = "btn btn-sm btn-outline-secondary compose-media-add";
    add.textContent = words.add;
    var picker = document.createElement("input");  // no name: it is never posted, the slots are
    picker.type = "file";
    picker.multiple = true;
    picker.accept = types.join(",");
    picker.hidden = true;
    picker.className = "compose-media-picker";
    picker.setAttribute("aria-hidden", "true");
    picker.tabIndex = -1;
    tools.appendChild(add);
    var hint = details.querySelector(".compose-media-hint");
    if (hint) { hint.classList.add("mb-0"); tools.appendChild(hint); }
    tools.appendChild(picker);
    var status = document.createElement("div");
    status.className = "compose-media-status small";
    status.setAttribute("aria-live", "polite");
    slotsBox.classList.add("compose-media-previews");
    box.classList.add("compose-media-enhanced");
    box.insertBefore(tools, details);
    box.insertBefore(status, details);
    box.insertBefore(slotsBox, details);
    details.remove();

    var slots = Array.prototype.map.call(slotsBox.querySelectorAll("fieldset.compose-media-slot"), makeSlot);

    function makeSlot(fieldset, index) {
      var input = fieldset.querySelector("input[type=file]");
      var textarea = fieldset.querySelector("textarea");
      var legend = fieldset.querySelector("legend");
      if (legend) { legend.classList.add("visually-hidden"); }
      input.hidden = true;  // still posted: hidden is not disabled
      input.tabIndex = -1;
      var thumb = document.createElement("div");
      thumb.className = "compose-media-thumb";
      var img = document.createElement("img");  // in the page only while it shows a file
      img.alt = "";
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "compose-media-remove";
      remove.setAttribute("aria-label", fill(words.remove, {number: index + 1}));
      remove.textContent = "\u00d7";
      thumb.appendChild(remove);
      var side = document.createElement("div");
      side.className = "compose-media-alt";
      var name = document.createElement("div");
      name.className = "compose-media-name small text-body-secondary text-truncate";
      side.appendChild(name);
      Array.prototype.slice.call(fieldset.children).forEach(function (child) {
        if (child !== legend && child !== input) { side.appendChild(child); }
      });
      fieldset.appendChild(thumb);
      fieldset.appendChild(side);
      fieldset.classList.remove("mb-2");
      fieldset.hidden = true;
      remove.addEventListener("click", function () { removeAt(index); });
      if (textarea) {
        textarea.addEventListener("input", function () {
          if (items[index]) { items[index].alt = textarea.value; }
        });
      }
      return {fieldset: fieldset, input: input, textarea: textarea, thumb: thumb, img: img, name: name,
              remove: remove};
    }

    // -- the model: items, shown in the slots ---------------------------------------------------------
    function say(message, isError) {
      status.classList.toggle("text-danger", !!isError);
      status.textContent = "";
      // A new text node a moment later: screen readers announce a repeated message again.
      window.setTimeout(function () { status.textContent = message; }, 50);
    }

    function render() {
      slots.forEach(function (slot, index) {
        var item = items[index];
        var transfer = new DataTransfer();
        if (item) { transfer.items.add(item.file); }
        slot.input.files = transfer.files;
        slot.fieldset.hidden = !item;
        if (item) {
          slot.img.src = item.url;
          slot.thumb.insertBefore(slot.img, slot.remove);
          slot.name.textContent = item.file.name;
          if (slot.textarea) { slot.textarea.value = item.alt; }
        } else {
          slot.img.remove();
          slot.img.removeAttribute("src");
          slot.name.textContent = "";
        }
      });
      add.disabled = items.length >= slots.length;
    }

    function addFiles(files) {
      var problems = [], added = [];
      Array.prototype.forEach.call(files, function (file) {
        var name = file.name || "image";
        if (types.indexOf(file.type) < 0) {
          problems.push(fill(words.wrongType, {name: name}));
        } else if (file.size > maxBytes) {
          problems.push(fill(words.tooLarge, {name: name}));
        } else if (items.length >= Math.min(maxFiles, slots.length)) {
          if (problems.indexOf(words.tooMany) < 0) { problems.push(words.tooMany); }
        } else {
          var slot = slots[items.length];
          // Text left in this slot's box (a form sent back with an error) describes the same image.
          items.push({file: file, url: URL.createObjectURL(file), alt: slot.textarea ? slot.textarea.value : ""});
          added.push(fill(words.added, {name: name, number: items.length}));
        }
      });
      if (added.length) { confirmed = false; render(); }
      if (problems.length || added.length) { say(problems.concat(added).join(" "), problems.length > 0); }
    }

    function removeAt(index) {
      var gone = items.splice(index, 1)[0];
      if (!gone) { return; }
      URL.revokeObjectURL(gone.url);
      render();
      var next = slots[Math.min(index, items.length - 1)];
      (items.length ? next.remove : add).focus();
      say(fill(words.removed, {number: index + 1}), false);
    }

    // -- the ways in: button, drop, paste ------------------------------------------------------------
    add.addEventListener("click", function () { picker.click(); });
    picker.addEventListener("change", function () {
      addFiles(picker.files);
      picker.value = "";  // choosing the same file again still fires "change"
    });
    var depth = 0;
    form.addEventListener("dragenter", function (event) {
      if (!hasFiles(event)) { return; }
      depth++;
      form.classList.add("compose-dropping");
    });
    form.addEventListener("dragover", function (event) {
      if (!hasFiles(event)) { return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    });
    form.addEventListener("dragleave", function (event) {
      if (hasFiles(event) && --depth <= 0) { depth = 0; form.classList.remove("compose-dropping"); }
    });
    form.addEventListener("drop", function (event) {
      if (!hasFiles(event)) { return; }
      event.preventDefault();
      depth = 0;
      form.classList.remove("compose-dropping");
      addFiles(event.dataTransfer.files);
    });
    form.addEventListener("paste", function (event) {
      var files = event.clipboardData && event.clipboardData.files;
      if (files && files.length) {
        event.preventDefault();  // not the file's name as text
        addFiles(files);
      }
    });

    // -- the warning before posting images without a description -------------------------------------
    var warning = null;

    function buildWarning() {
      warning = document.createElement("dialog");
      warning.className = "compose-media-warning p-3";
      warning.setAttribute("role", "alertdialog");
      warning.setAttribute("aria-modal", "true");
      var title = document.createElement("h2");
      title.className = "h5";
      title.id = "compose-media-warning-title-" + Math.random().toString(36).slice(2);
      title.textContent = words.confirmTitle;
      var text = document.createElement("p");
      text.id = title.id + "-text";
      var buttons = document.createElement("div");
      buttons.className = "d-flex flex-wrap gap-2 justify-content-end";
      var describe = document.createElement("button");
      describe.type = "button";
      describe.className = "btn btn-primary";
      describe.textContent = words.confirmAdd;
      describe.autofocus = true;
      var anyway = document.createElement("button");
      anyway.type = "button";
      anyway.className = "btn btn-outline-secondary";
      anyway.textContent = words.confirmPost;
      buttons.appendChild(describe);
      buttons.appendChild(anyway);
      [title, text, buttons].forEach(function (part) { warning.appendChild(part); });
      warning.setAttribute("aria-labelledby", title.id);
      warning.setAttribute("aria-describedby", text.id);
      describe.addEventListener("click", function () { warning.close("describe"); });
      anyway.addEventListener("click", function () { warning.close("post"); });
      warning.addEventListener("close", function () {
        if (warning.returnValue === "post") {
          confirmed = true;
          if (form.requestSubmit) { form.requestSubmit(warning.submitter || undefined); } else { form.submit(); }
          return;
        }
        var missing = firstMissing();
        if (missing >= 0 && slots[missing].textarea) { slots[missing].textarea.focus(); }
      });
      box.appendChild(warning);
      return text;
    }

    function missingAlt() {
      var numbers = [];
      items.forEach(function (item, index) { if (!item.alt.trim()) { numbers.push(index + 1); } });
      return numbers;
    }

    function firstMissing() {
      var numbers = missingAlt();
      return numbers.length ? numbers[0] - 1 : -1;
    }

    form.addEventListener("submit", function (event) {
      var numbers = missingAlt();
      if (confirmed || !numbers.length || typeof HTMLDialogElement !== "function") { return; }
      event.preventDefault();
      var text = warning ? warning.querySelector("p") : buildWarning();
      var names = numbers.map(function (number) { return fill(words.image, {number: number}); });
      text.textContent = fill(words.confirmText, {images: names.join(", ")});
      warning.submitter = event.submitter || null;
      warning.returnValue = "";
      warning.showModal();
    });

    // A form cleared after posting without a reload (compose.js calls form.reset()): no images left.
    form.addEventListener("reset", function () {
      items.forEach(function (item) { URL.revokeObjectURL(item.url); });
      items = [];
      confirmed = false;
      window.setTimeout(render, 0);  // after the browser has reset the fields themselves
    });

    render();
  }

  document.querySelectorAll(".compose-media[data-max-files]").forEach(enhance);
})();
