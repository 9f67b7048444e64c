/* Searchable jurisdiction pickers (core.widgets.PickerSelect): a search box above each
   select[data-picker] narrows its options to those whose label holds what is typed (a label is
   "青山镇 / 东风村", so a township's name finds its villages). Without this script the select
   works as it is. No inline script: the page's Content-Security-Policy allows none. */
(function () {
  "use strict";
  function enhance(select) {
    if (select.dataset.pickerReady) { return; }
    select.dataset.pickerReady = "1";
    var box = document.createElement("input");
    box.type = "search";
    box.className = "form-control form-control-sm mb-1 picker-search";
    box.placeholder = select.dataset.pickerPlaceholder || "";
    box.setAttribute("aria-label", box.placeholder);
    var empty = document.createElement("div");
    empty.className = "form-hint picker-empty d-none";
    empty.textContent = select.dataset.pickerEmpty || "";
    select.parentNode.insertBefore(box, select);
    select.parentNode.insertBefore(empty, select.nextSibling);
    if (select.size < 2 && !select.multiple) { select.dataset.pickerSize = select.size; }
    box.addEventListener("input", function () {
      var text = box.value.trim().toLowerCase();
      var shown = 0, first = null;
      Array.prototype.forEach.call(select.options, function (option) {
        var match = !text || !option.value || option.text.toLowerCase().indexOf(text) !== -1;
        option.hidden = !match;
        if (match && option.value) { shown += 1; if (!first) { first = option; } }
      });
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        var any = Array.prototype.some.call(group.children, function (o) { return !o.hidden; });
        var named = text && group.label.toLowerCase().indexOf(text) !== -1;
        if (named) { Array.prototype.forEach.call(group.children, function (o) { o.hidden = false; shown += 1; }); }
        group.hidden = !(any || named);
      });
      empty.classList.toggle("d-none", shown > 0);
      // One place left: chosen, as a user who typed its name means it.
      if (shown === 1 && first && !select.multiple) { select.value = first.value; }
    });
  }
  function all(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("select[data-picker]"), enhance);
  }
  document.addEventListener("DOMContentLoaded", function () { all(document); });
  document.addEventListener("htmx:afterSwap", function (event) { all(event.target); });
})();
