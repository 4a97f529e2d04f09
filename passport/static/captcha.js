// Progressive enhancement of the CAPTCHA widget (templates/passport/captcha/_widget.html).
// Without this script the "Nuevo código" link reloads the page and the audio link opens the
// WAV; with it, a new image arrives without losing what the person typed, and the audio plays
// in place. Served from /static only: the CSP forbids inline scripts.
(function () {
  "use strict";
  function csrfToken(node) {
    // Walk up to the enclosing form (Element.closest is missing on old phone browsers).
    while (node && node.nodeName !== "FORM") { node = node.parentNode; }
    var field = node && node.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }
  function setup(widget) {
    var image = widget.querySelector("[data-captcha-image]");
    var refresh = widget.querySelector("[data-captcha-refresh]");
    var audioLink = widget.querySelector("[data-captcha-audio]");
    var input = widget.querySelector("input[name=captcha]");
    if (refresh && window.fetch) {
      refresh.addEventListener("click", function (event) {
        event.preventDefault();
        fetch(refresh.getAttribute("data-captcha-refresh"), {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrfToken(widget) }
        }).then(function (response) {
          if (!response.ok) { throw new Error("refresh failed"); }
          return response.json();
        }).then(function (data) {
          image.src = data.image;
          image.classList.remove("captcha-stale");
          if (input) { input.value = ""; input.focus(); }
        }).catch(function () { window.location.href = refresh.href; });
      });
    }
    if (audioLink && window.Audio) {
      audioLink.addEventListener("click", function (event) {
        event.preventDefault();
        var sound = new Audio(audioLink.href + "?t=" + Date.now());
        sound.play();
        // The spoken code replaces the image's: dim the image so nobody types it.
        if (image) { image.classList.add("captcha-stale"); }
        if (input) { input.value = ""; input.focus(); }
      });
    }
  }
  var widgets = document.querySelectorAll("[data-captcha]");
  for (var i = 0; i < widgets.length; i++) { setup(widgets[i]); }
})();
