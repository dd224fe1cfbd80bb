// Shared by the work, exam and review pages: JSON posts with the CSRF token, and checking a
// transcript against the conventions with the problems listed under the text box.
window.crowdscribe = (function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {}),
    });
  }

  // The problems the server finds in `text`, or none if it could not check.
  async function checkConventions(text, language) {
    const response = await post("/api/v1/conventions/check", { text, language });
    if (!response.ok) return null;
    const result = await response.json();
    return result.problems;
  }

  // Lists each problem with the characters it covers; `praise` says whether an all-clear is shown.
  function showProblems(list, text, problems, praise) {
    list.innerHTML = "";
    list.classList.toggle("ok", praise);
    if (praise) {
      const item = document.createElement("li");
      item.textContent = "✓ Follows the conventions.";
      list.appendChild(item);
    }
    for (const problem of problems) {
      const item = document.createElement("li");
      item.dataset.start = problem.start;
      item.dataset.end = problem.end;
      item.append(`Characters ${problem.start + 1}–${problem.end}: `);
      const snippet = document.createElement("code");
      snippet.textContent = text.slice(problem.start, problem.end) || "(empty)";
      item.append(snippet, " " + problem.message);
      list.appendChild(item);
    }
  }

  return { post, checkConventions, showProblems };
})();
