// Daily attendance, progressive enhancement (the page works the same without it):
// choosing 欠席 with a pointer (a tap or a click) opens that child's list of reasons
// at once, so an absence is two taps (欠席, then the reason) instead of three.
// Keyboard users keep the radio group's arrow keys: their focus is never moved.
(function () {
  "use strict";
  var table = document.querySelector("table.attendance");
  if (!table) {
    return;
  }
  var byPointer = false;
  table.addEventListener("pointerdown", function () { byPointer = true; }, true);
  table.addEventListener("keydown", function () { byPointer = false; }, true);
  table.addEventListener("change", function (event) {
    var input = event.target;
    if (!byPointer || input.type !== "radio" || input.value !== "absent") {
      return;
    }
    var select = document.getElementById("reason-" + input.name.slice("status-".length));
    if (!select || select.disabled || select.value) {
      return;
    }
    select.focus();
    if (typeof select.showPicker === "function") {
      try {
        select.showPicker();
        select.dataset.pickerOpened = "1";  // read by benchmarks/bench_tasks.py
      } catch (refused) {
        // Not allowed here (no user activation): the list has the focus, one tap opens it.
      }
    }
  });
}());
