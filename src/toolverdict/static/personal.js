/* Signed-in readers get the cached page like everyone else; this asks once for their own
   bits (account menu, their votes, messages) when the tv_member cookie says they have any.
   htmx then swaps the answer in out of band (community:page_bits). */
(function () {
  var el = document.getElementById("page-bits");
  if (!el || document.cookie.split("; ").indexOf("tv_member=1") === -1) return;
  var src = el.getAttribute("data-src");
  var next = "next=" + encodeURIComponent(location.pathname + location.search);
  el.setAttribute("hx-get", src + (src.indexOf("?") === -1 ? "?" : "&") + next);
  el.setAttribute("hx-trigger", "load");
  el.setAttribute("hx-swap", "none");
})();
