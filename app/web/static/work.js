// Transcript box (work and exam pages): tag palette, inline convention checks, Ctrl+Enter to
// submit; on the work page also lease renewal.
(function () {
  "use strict";
  const page = document.querySelector("[data-language]");
  if (!page) return;
  const form = document.getElementById("transcript-form");
  const textarea = document.getElementById("transcript");
  const problemList = document.getElementById("problems");
  const leaseStatus = document.getElementById("lease-status");
  const { post, checkConventions, showProblems, text, composing } = window.crowdscribe;
  const zone = document.querySelector('meta[name="time-zone"]').content;
  const assignmentId = page.dataset.assignment;
  const language = page.dataset.language;
  const RENEW_EVERY_MS = 120000;
  let lastTypedAt = Date.now();
  let checkTimer = null;
  let checkedText = null;
  let lastProblems = [];

  async function check() {
    const text = textarea.value;
    if (text === checkedText) return lastProblems;
    const problems = await checkConventions(text, language);
    if (problems === null) return [];
    checkedText = text;
    lastProblems = problems;
    if (textarea.value === text) {
      showProblems(problemList, text, problems, problems.length === 0 && text.trim() !== "");
    }
    return lastProblems;
  }

  // A tag goes in as its own token (spaces around it); a guess wraps the selection and leaves
  // the caret inside the brackets.
  function insertAtCursor(before, after) {
    const start = textarea.selectionStart;
    const end = textarea.selectionEnd;
    const value = textarea.value;
    const chosen = value.slice(start, end);
    const lead = start > 0 && !/\s$/.test(value.slice(0, start)) ? " " : "";
    const trail = !after && !/^\s/.test(value.slice(end)) ? " " : "";
    textarea.value =
      value.slice(0, start) + lead + before + chosen + (after || "") + trail + value.slice(end);
    const caret = after
      ? start + lead.length + before.length + chosen.length
      : start + lead.length + before.length + trail.length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    scheduleCheck();
  }

  function scheduleCheck() {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, 350);
  }

  // A time as the page shows times: 24-hour, in the person's zone.
  function clock(moment) {
    return moment.toLocaleTimeString(document.documentElement.lang, {
      timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
  }

  async function renew() {
    const response = await post(`/api/v1/assignments/${assignmentId}/renew`);
    if (response.ok) {
      const lease = await response.json();
      leaseStatus.textContent = text("reserved", {
        time: text("zoned", { time: clock(new Date(lease.lease_expires_at)), zone: text("zone_label") }),
      });
    } else {
      const problem = await response.json().catch(() => ({}));
      leaseStatus.textContent = problem.detail || text("not_reserved");
    }
  }

  document.querySelectorAll("[data-insert]").forEach((button) => {
    button.addEventListener("click", () => insertAtCursor(button.dataset.insert, button.dataset.after));
  });
  problemList.addEventListener("click", (event) => {
    const item = event.target.closest("li[data-start]");
    if (!item) return;
    textarea.focus();
    textarea.setSelectionRange(Number(item.dataset.start), Number(item.dataset.end));
  });
  textarea.addEventListener("input", () => { lastTypedAt = Date.now(); scheduleCheck(); });
  textarea.addEventListener("keydown", (event) => {
    if (composing(event)) return;
    if (event.ctrlKey && event.key === "Enter") {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  // Check before sending; form.submit() then sends without firing this handler again.
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearTimeout(checkTimer);
    const problems = await check();
    if (problems.length === 0) form.submit();
    else textarea.focus();
  });

  if (textarea.value) check();
  if (!assignmentId) return;
  // Keep the lease while the person is here: renew when the page has focus or they typed lately.
  setInterval(() => {
    if (document.hasFocus() || Date.now() - lastTypedAt < RENEW_EVERY_MS) renew();
  }, RENEW_EVERY_MS);
})();
