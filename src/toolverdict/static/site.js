/* htmx on demand. Every form works without JavaScript; htmx only lets votes and the
   digest sign-up answer in place. Most readers use neither, so htmx (50 kB) is loaded for
   a signed-in reader (the tv_member cookie; their own bits arrive by one htmx request, see
   #page-bits) or when a reader first reaches for an htmx form. A form submitted before
   htmx is ready is sent again, by htmx, once it is. htmx sets itself up at once only when
   the document has finished loading, so it is added no earlier than that. */
(function () {
  var me = document.currentScript;
  var src = me && me.getAttribute("data-htmx");
  var state = "idle";
  var waiting = [];

  function flush() {
    while (waiting.length) waiting.shift()();
  }

  function inject() {
    var script = document.createElement("script");
    script.src = src;
    script.onload = function () {
      state = "ready";
      flush();
    };
    document.head.appendChild(script);
  }

  function load(then) {
    if (then) waiting.push(then);
    if (state === "ready") return flush();
    if (state === "loading" || !src) return;
    state = "loading";
    if (document.readyState === "complete") inject();
    else window.addEventListener("load", inject, { once: true });
  }

  function htmxForm(target) {
    return target && target.closest ? target.closest("form[hx-post]") : null;
  }

  var bits = document.getElementById("page-bits");
  if (document.cookie.split("; ").indexOf("tv_member=1") !== -1) {
    if (bits) {
      var next = "next=" + encodeURIComponent(location.pathname + location.search);
      var url = bits.getAttribute("data-src");
      bits.setAttribute("hx-get", url + (url.indexOf("?") === -1 ? "?" : "&") + next);
      bits.setAttribute("hx-trigger", "load");
      bits.setAttribute("hx-swap", "none");
    }
    load();
  }
  ["focusin", "pointerover", "touchstart"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      if (htmxForm(event.target)) load();
    }, { passive: true });
  });
  document.addEventListener("submit", function (event) {
    var form = htmxForm(event.target);
    if (!form || state === "ready") return;
    event.preventDefault();
    var submitter = event.submitter;
    load(function () {
      form.requestSubmit(submitter || undefined);
    });
  });
})();
