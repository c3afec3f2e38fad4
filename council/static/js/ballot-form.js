// The new-ballot form without clutter: shows only the fields that apply, adds question
// slots, offers only the supervisors of the chosen place. The form works without it.
const form = document.querySelector("form.ballot-form");

function setShown(element, shown) {
  element.hidden = !shown;
  // Hidden fields are not sent, so what the page hides never counts.
  for (const control of element.querySelectorAll("input, select, textarea")) control.disabled = !shown;
}

function syncQuestion(slot) {
  const kind = slot.querySelector("[data-kind]").value;
  for (const part of slot.querySelectorAll("[data-for]")) {
    setShown(part, part.dataset.for.split(" ").includes(kind));
  }
}

function checked(name) {
  return form.querySelector(`input[name="${name}"]:checked`)?.value;
}

function syncRule() {
  setShown(form.querySelector("#custom-rule"), checked("preset") === "custom");
}

function syncTrustees() {
  const section = form.querySelector("#trustees");
  const secret = checked("secrecy") !== "open";
  setShown(section, secret);
  if (!secret) return;
  const option = form.querySelector("#scope_id").selectedOptions[0];
  const place = option ? option.dataset.path : "";
  let ticked = 0;
  for (const label of section.querySelectorAll("[data-paths]")) {
    const covers = label.dataset.paths.split(" ").some((path) => place.startsWith(path));
    setShown(label, covers);
    if (covers && label.querySelector("input").checked) ticked += 1;
  }
  form.querySelector("#t").placeholder = ticked ? String(Math.floor(ticked / 2) + 1) : "";
}

if (form) {
  const questions = form.querySelector("#questions");
  const template = form.querySelector("#question-template");
  const add = form.querySelector("#add-question");
  for (const slot of questions.querySelectorAll("[data-question]")) syncQuestion(slot);
  questions.addEventListener("change", (event) => {
    if (event.target.matches("[data-kind]")) syncQuestion(event.target.closest("[data-question]"));
  });
  add.hidden = false;
  add.addEventListener("click", () => {
    const count = questions.querySelectorAll("[data-question]").length;
    if (count >= Number(add.dataset.max)) return;
    const html = template.innerHTML.replaceAll("__NUMBER__", String(count + 1)).replaceAll("__N__", String(count));
    questions.insertAdjacentHTML("beforeend", html);
    const slot = questions.lastElementChild;
    syncQuestion(slot);
    slot.querySelector("textarea").focus();
    add.hidden = count + 1 >= Number(add.dataset.max);
  });
  form.addEventListener("change", (event) => {
    const name = event.target.name;
    if (name === "preset") syncRule();
    if (name === "secrecy" || name === "scope_id" || name === "trustee_ids") syncTrustees();
    if (name === "proposal_id") {
      const title = form.querySelector("#title");
      const chosen = event.target.selectedOptions[0];
      if (!title.value && chosen && chosen.dataset.title) title.value = chosen.dataset.title;
    }
  });
  syncRule();
  syncTrustees();
  document.querySelector("#form-error")?.focus();
}
