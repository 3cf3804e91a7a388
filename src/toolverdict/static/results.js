/* Blind-first comparison pages: the results open once the reader has voted on the pair.
   Without JavaScript the page itself comes with them open (the vote redirects back). With
   it, two swaps can tell us the reader has voted: their vote cast in place
   (/votes/pair/…), and their own bits fetched into a shared copy of the page
   (/accounts/page-bits/, see site.js). Either way the box then says "Your vote is
   saved". */
(function () {
  document.addEventListener("htmx:afterSettle", function (event) {
    var path = (event.detail && event.detail.pathInfo && event.detail.pathInfo.requestPath) || "";
    if (path.indexOf("/votes/pair/") === -1 && path.indexOf("/accounts/page-bits/") === -1) return;
    if (!document.querySelector(".pair-vote .vote-saved")) return;
    var results = document.getElementById("results");
    if (results) results.open = true;
  });
})();
