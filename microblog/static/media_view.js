// The images of posts (_media_grid.html): the placeholder while each loads (its BlurHash, or its average
// colour), the ALT button that shows the description, and a lightbox (a modal <dialog>: arrow keys go
// from image to image, Escape closes). Without this script each thumbnail links to the full-size file.
// Its words come translated from the server, as data attributes of its <script> tag.
(function () {
  "use strict";

  var script = document.currentScript;
  var words = (script && script.dataset) || {};
  var DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";
  var counter = 0;

  // -- BlurHash (the public algorithm: a DC colour and AC cosine components in base 83) ---------------
  function decode83(text) {
    var value = 0;
    for (var i = 0; i < text.length; i++) {
      var digit = DIGITS.indexOf(text.charAt(i));
      if (digit < 0) { throw new Error("not base 83"); }
      value = value * 83 + digit;
    }
    return value;
  }

  function toLinear(value) {
    var v = value / 255;
    return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  }

  function toSrgb(value) {
    var v = Math.max(0, Math.min(1, value));
    return Math.round(v <= 0.0031308 ? v * 12.92 * 255 : (1.055 * Math.pow(v, 1 / 2.4) - 0.055) * 255);
  }

  function signedPow(value, exponent) {
    return (value < 0 ? -1 : 1) * Math.pow(Math.abs(value), exponent);
  }

  function blurhashPixels(hash, width, height) {
    var size = decode83(hash.charAt(0));
    var numY = Math.floor(size / 9) + 1, numX = (size % 9) + 1;
    if (hash.length !== 4 + 2 * numX * numY) { throw new Error("bad BlurHash length"); }
    var maximum = (decode83(hash.charAt(1)) + 1) / 166;
    var colours = [];
    for (var c = 0; c < numX * numY; c++) {
      if (c === 0) {
        var dc = decode83(hash.substring(2, 6));
        colours.push([toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]);
      } else {
        var ac = decode83(hash.substring(4 + c * 2, 6 + c * 2));
        colours.push([Math.floor(ac / 361), Math.floor(ac / 19) % 19, ac % 19].map(function (q) {
          return signedPow((q - 9) / 9, 2) * maximum;
        }));
      }
    }
    var pixels = new Uint8ClampedArray(width * height * 4);
    for (var y = 0; y < height; y++) {
      for (var x = 0; x < width; x++) {
        var r = 0, g = 0, b = 0;
        for (var j = 0; j < numY; j++) {
          for (var i = 0; i < numX; i++) {
            var basis = Math.cos(Math.PI * x * i / width) * Math.cos(Math.PI * y * j / height);
            var colour = colours[i + j * numX];
            r += colour[0] * basis; g += colour[1] * basis; b += colour[2] * basis;
          }
        }
        var at = 4 * (x + y * width);
        pixels[at] = toSrgb(r); pixels[at + 1] = toSrgb(g); pixels[at + 2] = toSrgb(b); pixels[at + 3] = 255;
      }
    }
    return pixels;
  }

  // -- Placeholders -------------------------------------------------------------------------------------
  function paintPlaceholder(item) {
    var img = item.querySelector("img");
    if (item.dataset.colour && /^#[0-9a-fA-F]{6}$/.test(item.dataset.colour)) {
      item.style.backgroundColor = item.dataset.colour;  // CSSOM, which the CSP allows (style="" it does not)
    }
    var hash = item.dataset.blurhash;
    if (!hash || !img || (img.complete && img.naturalWidth) || !window.ImageData) { return; }
    try {
      var canvas = document.createElement("canvas");
      canvas.width = 32;
      canvas.height = 32;
      canvas.className = "post-media-blurhash";
      canvas.setAttribute("aria-hidden", "true");
      canvas.getContext("2d").putImageData(new ImageData(blurhashPixels(hash, 32, 32), 32, 32), 0, 0);
      item.insertBefore(canvas, item.firstChild);
      var done = function () { canvas.remove(); };
      img.addEventListener("load", done, {once: true});
      img.addEventListener("error", done, {once: true});
    } catch (e) { /* a malformed hash: the average colour stays */ }
  }

  // -- The ALT button -----------------------------------------------------------------------------------
  function enableAltButton(button) {
    var text = button.nextElementSibling;
    if (!text || !text.classList.contains("post-media-alt-text")) { return; }
    text.id = text.id || "media-alt-" + (++counter);
    button.setAttribute("aria-controls", text.id);
    if (words.altLabel) { button.setAttribute("title", words.altLabel); }
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      text.hidden = !open;
    });
    button.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !text.hidden) {
        button.setAttribute("aria-expanded", "false");
        text.hidden = true;
      }
    });
  }

  // -- The lightbox -------------------------------------------------------------------------------------
  var dialog = null, image, caption, position, original, previous, next, links = [], index = 0, opener = null;

  function button(className, label, symbol) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "media-lightbox-button " + className;
    element.setAttribute("aria-label", label);
    element.textContent = symbol;
    return element;
  }

  function buildDialog() {
    dialog = document.createElement("dialog");
    dialog.className = "media-lightbox";
    var figure = document.createElement("figure");
    image = document.createElement("img");
    caption = document.createElement("figcaption");
    figure.appendChild(image);
    figure.appendChild(caption);
    var footer = document.createElement("div");
    footer.className = "media-lightbox-footer";
    position = document.createElement("span");
    position.id = "media-lightbox-position";
    original = document.createElement("a");
    original.target = "_blank";
    original.rel = "noopener";
    original.textContent = words.original || "Open the original";
    footer.appendChild(position);
    footer.appendChild(original);
    var close = button("media-lightbox-close", words.close || "Close", "\u00d7");
    close.autofocus = true;  // showModal() starts there, not on the first link
    var rtl = document.documentElement.dir === "rtl";
    previous = button("media-lightbox-previous", words.previous || "Previous image", rtl ? "\u203a" : "\u2039");
    next = button("media-lightbox-next", words.next || "Next image", rtl ? "\u2039" : "\u203a");
    dialog.setAttribute("aria-labelledby", position.id);
    [figure, footer, previous, next, close].forEach(function (part) { dialog.appendChild(part); });
    close.addEventListener("click", function () { dialog.close(); });
    previous.addEventListener("click", function () { show(index - 1); });
    next.addEventListener("click", function () { show(index + 1); });
    // A click on the backdrop (the dialog itself, outside its contents) closes it.
    dialog.addEventListener("click", function (event) { if (event.target === dialog) { dialog.close(); } });
    dialog.addEventListener("keydown", function (event) {
      var forward = rtl ? "ArrowLeft" : "ArrowRight", back = rtl ? "ArrowRight" : "ArrowLeft";
      if (event.key === forward && links.length > 1) { event.preventDefault(); show(index + 1); }
      if (event.key === back && links.length > 1) { event.preventDefault(); show(index - 1); }
    });
    // Back to the thumbnail that opened it, whichever way it closed (Escape, the button, the backdrop).
    dialog.addEventListener("close", function () {
      image.removeAttribute("src");
      var back = links[index] || opener;
      if (back) { back.focus(); }
    });
    document.body.appendChild(dialog);
  }

  function show(at) {
    index = (at + links.length) % links.length;
    var link = links[index], thumbnail = link.querySelector("img");
    image.src = link.href;
    image.alt = thumbnail ? thumbnail.alt : "";
    if (thumbnail && thumbnail.dataset.fullWidth) {
      image.width = +thumbnail.dataset.fullWidth;
      image.height = +thumbnail.dataset.fullHeight;
    }
    caption.textContent = image.alt;
    caption.hidden = !image.alt;
    caption.setAttribute("aria-hidden", "true");  // the image's alt says it already
    original.href = link.href;
    position.textContent = (words.position || "Image {number} of {count}")
      .replace("{number}", index + 1).replace("{count}", links.length);
    previous.hidden = next.hidden = links.length < 2;
  }

  function open(link) {
    if (!dialog) { buildDialog(); }
    links = Array.prototype.slice.call(link.closest(".post-media").querySelectorAll("a.post-media-link"));
    opener = link;
    show(links.indexOf(link));
    dialog.showModal();
  }

  function enhance(root) {
    root.querySelectorAll(".post-media-item[data-colour]").forEach(paintPlaceholder);
    root.querySelectorAll("button.post-media-alt").forEach(enableAltButton);
  }

  enhance(document);
  // Cards added without a reload (a post just written, Load more, new posts: compose.js, timeline.js).
  document.addEventListener("microblog:cards", function (event) {
    ((event.detail && event.detail.cards) || []).forEach(function (card) { if (card) { enhance(card); } });
  });
  if (typeof HTMLDialogElement === "function") {
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a.post-media-link");
      // A middle click or one with a modifier key opens the file in a tab, as links do.
      if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) { return; }
      event.preventDefault();
      open(link);
    });
  }
})();
