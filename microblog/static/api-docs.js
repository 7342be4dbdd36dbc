// Starts Swagger UI on /api/docs with the document named by the page (no inline script: CSP).
(function () {
  "use strict";
  var container = document.getElementById("swagger-ui-container");
  window.ui = window.SwaggerUIBundle({
    url: container.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui-container",
    deepLinking: true,
  });
})();
