// Saves the browser's time zone as the person's, once, so pages show their own clock; a page
// drawn in another zone is redrawn unless it holds a text box. A browser reporting plain UTC
// is nearly always a machine with no zone set, not a person: the project's zone stays.
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="time-zone"]');
  if (!meta || meta.dataset.saved !== "no") return;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone || /^(Etc\/)?(UTC|GMT|Universal|Zulu)$/.test(zone)) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  fetch("/preferences/time-zone", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify({ time_zone: zone }),
  }).then((response) => {
    if (response.ok && zone !== meta.content && !document.querySelector("textarea")) {
      window.location.reload();
    }
  });
})();
