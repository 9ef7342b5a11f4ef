// Quick exit: replace this page in the history, so "back" does not return here.
// Without JavaScript the same link still works: /exit/ ends the session and redirects.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("[data-exit]");
  if (!link) return;
  event.preventDefault();
  window.location.replace(link.getAttribute("href"));
});
