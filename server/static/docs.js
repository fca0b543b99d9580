// The API documentation at /schema: Redoc, from Roomlink's own assets, reading the OpenAPI document.
(function () {
  var container = document.getElementById("redoc");
  Redoc.init(container.dataset.specUrl, { hideDownloadButton: false }, container);
})();
