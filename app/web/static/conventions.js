// Shared by the work, exam and review pages: JSON posts with the CSRF token, and checking a
// transcript against the conventions with the problems listed under the text box.
window.crowdscribe = (function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const pageLanguage = document.documentElement.lang || "en";
  const words = JSON.parse(document.getElementById("page-text").textContent);

  // The page's own words (translated by the server), with %(name)s filled in.
  function text(key, values) {
    return (words[key] || key).replace(/%\((\w+)\)s/g, (_m, name) => String((values || {})[name]));
  }

  // Whether a key press belongs to an input method still composing (pinyin, cangjie...).
  function composing(event) {
    return event.isComposing || event.keyCode === 229;
  }

  // The API answers in the page's language, not the browser's default.
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRF-Token": csrf,
        "Accept-Language": pageLanguage,
      },
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
  function showProblems(list, transcript, problems, praise) {
    list.innerHTML = "";
    list.classList.toggle("ok", praise);
    if (praise) {
      const item = document.createElement("li");
      item.textContent = text("follows");
      list.appendChild(item);
    }
    for (const problem of problems) {
      const item = document.createElement("li");
      item.dataset.start = problem.start;
      item.dataset.end = problem.end;
      item.append(text("characters", { first: problem.start + 1, last: problem.end }) + " ");
      const snippet = document.createElement("code");
      snippet.textContent = transcript.slice(problem.start, problem.end) || text("empty");
      item.append(snippet, " " + problem.message);
      list.appendChild(item);
    }
  }

  return { post, checkConventions, showProblems, text, composing };
})();
