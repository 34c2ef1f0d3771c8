// glasspane: the little JavaScript the pages use. Everything works without it
// except collapsing waterfall rows and choosing a span without a page load.
(function () {
  "use strict";

  // Rows are flat, in depth-first order, with data-depth: a row's subtree is
  // every following row with a greater depth.
  function subtree(row) {
    var depth = +row.dataset.depth, out = [];
    for (var next = row.nextElementSibling; next && next.classList.contains("wf-row"); next = next.nextElementSibling) {
      if (+next.dataset.depth <= depth) break;
      out.push(next);
    }
    return out;
  }

  function mark(row, open) {
    row.dataset.expanded = open ? "true" : "false";
    var twisty = row.querySelector(".twisty");
    if (twisty) twisty.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function setExpanded(row, open) {
    if (!row.dataset.expanded) return;
    mark(row, open);
    var rows = subtree(row);
    if (!open) { rows.forEach(function (r) { r.hidden = true; }); return; }
    // Show the subtree, except below descendants that are themselves collapsed.
    var hideBelow = Infinity;
    rows.forEach(function (r) {
      var d = +r.dataset.depth;
      if (d <= hideBelow) hideBelow = Infinity;
      r.hidden = d > hideBelow;
      if (!r.hidden && r.dataset.expanded === "false") hideBelow = d;
    });
  }

  function select(id, focus) {
    var panel = document.getElementById("details");
    if (!panel) return;
    var target = document.getElementById("span-" + id);
    if (!target) return;
    panel.querySelectorAll(".span-details").forEach(function (s) { s.hidden = s !== target; });
    document.querySelectorAll(".wf-row.selected").forEach(function (r) { r.classList.remove("selected"); });
    var row = document.querySelector('.wf-row[data-span="' + CSS.escape(id) + '"]:not(.wf-error):not(.wf-log)');
    if (row) {
      row.classList.add("selected");
      // Reveal a span hidden inside a collapsed parent.
      for (var prev = row.previousElementSibling, d = +row.dataset.depth; prev; prev = prev.previousElementSibling) {
        if (+prev.dataset.depth < d) { d = +prev.dataset.depth; if (prev.dataset.expanded === "false") setExpanded(prev, true); }
      }
      if (focus) row.querySelector(".sel").focus();
    }
    var url = new URL(location.href);
    url.searchParams.set("span", id);
    url.hash = "span-" + id;
    history.replaceState(null, "", url);
    panel.scrollTop = 0;
  }

  function visibleRows(wf) {
    return Array.prototype.filter.call(wf.querySelectorAll(".wf-row:not(.wf-error):not(.wf-log)"), function (r) { return !r.hidden; });
  }

  function initWaterfall(wf) {
    wf.addEventListener("click", function (ev) {
      var twisty = ev.target.closest(".twisty");
      if (twisty) {
        var row = twisty.closest(".wf-row");
        setExpanded(row, row.dataset.expanded === "false");
        return;
      }
      var link = ev.target.closest("a[data-select]");
      if (link && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey) {
        ev.preventDefault();
        select(link.dataset.select, false);
      }
    });
    wf.addEventListener("keydown", function (ev) {
      var row = ev.target.closest(".wf-row");
      if (!row || !ev.target.classList.contains("sel")) return;
      var rows = visibleRows(wf), i = rows.indexOf(row);
      if (ev.key === "ArrowDown" && i < rows.length - 1) { rows[i + 1].querySelector(".sel").focus(); ev.preventDefault(); }
      else if (ev.key === "ArrowUp" && i > 0) { rows[i - 1].querySelector(".sel").focus(); ev.preventDefault(); }
      else if (ev.key === "ArrowLeft") { setExpanded(row, false); ev.preventDefault(); }
      else if (ev.key === "ArrowRight") { setExpanded(row, true); ev.preventDefault(); }
    });
    document.querySelectorAll("[data-wf]").forEach(function (button) {
      button.addEventListener("click", function () {
        var open = button.dataset.wf === "expand";
        wf.querySelectorAll(".wf-row[data-expanded]").forEach(function (r) { mark(r, open); });
        wf.querySelectorAll(".wf-row").forEach(function (r) { r.hidden = !open && +r.dataset.depth > 0; });
      });
    });
    // Summary links select a span on this page too.
    document.querySelectorAll(".summary a[data-select]").forEach(function (link) {
      link.addEventListener("click", function (ev) { ev.preventDefault(); select(link.dataset.select, true); });
    });
    var hash = location.hash.match(/^#span-(.+)$/);
    if (hash) select(decodeURIComponent(hash[1]), false);
  }

  // The logs page's live tail: fetch this same page again and swap in its
  // lines, every few seconds while the tab is visible. The toggle is a link
  // (live=1 in the URL), so it works, and is shared, without the script.
  function initLiveTail(toggle) {
    if (toggle.getAttribute("aria-pressed") !== "true") return;
    var busy = false;
    setInterval(function () {
      if (busy || document.hidden) return;
      busy = true;
      fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (answer) { return answer.ok ? answer.text() : null; })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("log-lines");
          var lines = document.getElementById("log-lines");
          if (fresh && lines) lines.replaceChildren.apply(lines, Array.prototype.slice.call(fresh.childNodes));
        })
        .catch(function () { /* the next poll tries again */ })
        .then(function () { busy = false; });
    }, (+toggle.dataset.seconds || 5) * 1000);
  }

  // The replay page's scrubber: the timeline rows up to the chosen offset
  // are "reached" (highlighted); the last reached row is the current one.
  // Beside them, the page's text as it was then: the last state at or before
  // the offset (the server rendered one per change). Clicking a row scrubs to it.
  function initScrubber(range) {
    var rows = document.querySelectorAll("#replay-timeline tbody tr");
    var states = document.querySelectorAll("#replay-page-text .page-state");
    var stateAt = document.querySelector("#replay-page-text .page-text-at");
    var out = document.getElementById("replay-at");
    function show() {
      var at = +range.value, current = null, state = null;
      rows.forEach(function (row) {
        var reached = +row.dataset.offset <= at;
        row.classList.toggle("reached", reached);
        row.classList.remove("current");
        if (reached) current = row;
      });
      if (current) current.classList.add("current");
      states.forEach(function (s) { if (+s.dataset.offset <= at || !state) state = s; });
      states.forEach(function (s) { s.hidden = s !== state; });
      if (out) out.textContent = (at / 1000).toFixed(1) + " s";
      if (stateAt) stateAt.textContent = (at / 1000).toFixed(1) + " s";
    }
    range.addEventListener("input", show);
    rows.forEach(function (row) {
      row.addEventListener("click", function (event) {
        if (event.target.closest("a")) return; // links keep their own meaning
        range.value = row.dataset.offset;
        show();
      });
    });
    show();
  }

  // A "Copy" button copies the text of the element its data-copy names.
  function initCopy(button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.dataset.copy);
      if (!source || !navigator.clipboard) return;
      navigator.clipboard.writeText(source.textContent).then(function () {
        button.textContent = "Copied";
      });
    });
  }

  // The project picker applies as soon as a project is chosen.
  function initAutoSubmit(select) {
    select.addEventListener("change", function () { select.form.requestSubmit(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-copy]").forEach(initCopy);
    document.querySelectorAll("select[data-autosubmit]").forEach(initAutoSubmit);
    var scrub = document.getElementById("replay-scrub");
    if (scrub) initScrubber(scrub);
    var wf = document.getElementById("waterfall");
    if (wf) initWaterfall(wf);
    var tail = document.getElementById("live-tail");
    if (tail) initLiveTail(tail);
  });
})();
