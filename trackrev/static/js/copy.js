/* Copy buttons: <button data-copy="ELEMENT_ID"> copies that element's text; an element with
   data-copy-status="ELEMENT_ID" (optional) says whether it worked. */
(function () {
  document.addEventListener('click', function (event) {
    var button = event.target.closest('[data-copy]');
    if (!button) return;
    var id = button.getAttribute('data-copy');
    var source = document.getElementById(id);
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(
      function () { if (status) status.textContent = 'Copied.'; },
      function () { if (status) status.textContent = 'Copy failed: select the text and copy it.'; }
    );
  });
})();
