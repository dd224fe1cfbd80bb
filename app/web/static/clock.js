// Saves the browser's time zone as the person's, once, so pages show their own clock; a page
// drawn in another zone is redrawn unless the person has started typing on it.
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="time-zone"]');
  if (!meta || meta.dataset.saved !== "no") return;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone || sessionStorage.getItem("crowdscribe.zone-sent") === zone) return;
  sessionStorage.setItem("crowdscribe.zone-sent", zone);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  fetch("/preferences/time-zone", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify({ time_zone: zone }),
  }).then((response) => {
    const typing = Array.from(document.querySelectorAll("textarea")).some((box) => box.value);
    if (response.ok && zone !== meta.content && !typing) window.location.reload();
  });
})();
