// form_post response mode: return to the application at once; the Continue button is the fallback.
document.addEventListener("DOMContentLoaded", function () {
  document.forms[0].submit();
});
