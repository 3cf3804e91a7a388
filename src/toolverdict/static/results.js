/* Blind-first comparison pages: once the reader's head-to-head vote is accepted in place
   (htmx), open the results it was asked before. Without JavaScript the vote redirects
   back to the page, which then renders with the results open. */
(function () {
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail && event.detail.xhr;
    var path = (event.detail && event.detail.pathInfo && event.detail.pathInfo.requestPath) || "";
    if (!xhr || path.indexOf("/votes/pair/") === -1) return;
    if (xhr.getResponseHeader("X-Vote-Accepted") !== "1") return;
    var results = document.getElementById("results");
    if (results) results.open = true;
  });
})();
