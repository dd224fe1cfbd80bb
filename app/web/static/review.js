// Review page: 1/2/3 accept transcript N, E edits, U picks an unusable reason, Ctrl+Enter
// submits; the final text is checked against the conventions as the reviewer types.
(function () {
  "use strict";
  const page = document.querySelector("[data-dispute]");
  if (!page || page.dataset.state !== "open") return;
  const editForm = document.getElementById("edit-form");
  const textarea = document.getElementById("final-text");
  const problemList = document.getElementById("problems");
  const unusableForm = document.getElementById("unusable-form");
  const reasonSelect = document.getElementById("unusable-reason");
  const { checkConventions, showProblems } = window.crowdscribe;
  const language = page.dataset.language;
  let checkTimer = null;
  let submitting = false;

  function typing(target) {
    return target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" ||
      target.tagName === "SELECT" || target.isContentEditable);
  }

  async function check() {
    const text = textarea.value;
    const problems = await checkConventions(text, language);
    if (problems === null) return [];
    if (textarea.value === text) showProblems(problemList, text, problems, problems.length === 0);
    return problems;
  }

  function submitOnce(form) {
    if (submitting) return;
    submitting = true;
    form.requestSubmit();
  }

  textarea.addEventListener("input", () => {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, 300);
  });

  editForm.addEventListener("submit", async (event) => {
    if (editForm.dataset.checked === "yes") return;
    event.preventDefault();
    submitting = false;
    const problems = await check();
    if (problems.length === 0) {
      editForm.dataset.checked = "yes";
      submitOnce(editForm);
    } else {
      textarea.focus();
    }
  });

  document.addEventListener("keydown", (event) => {
    if (window.crowdscribe.composing(event)) return;
    if (event.ctrlKey && event.key === "Enter") {
      if (document.activeElement === textarea) { event.preventDefault(); editForm.requestSubmit(); }
      else if (document.activeElement === reasonSelect) { event.preventDefault(); submitOnce(unusableForm); }
      return;
    }
    if (typing(event.target) || event.ctrlKey || event.altKey || event.metaKey) return;
    const accept = /^[1-9]$/.test(event.key) && document.getElementById(`accept-${event.key}`);
    if (accept) {
      event.preventDefault();
      submitOnce(accept.form);
    } else if (event.key === "e" || event.key === "E") {
      event.preventDefault();
      textarea.focus();
      textarea.setSelectionRange(textarea.value.length, textarea.value.length);
    } else if (event.key === "u" || event.key === "U") {
      event.preventDefault();
      reasonSelect.focus();
    }
  });
})();
