// A checkout page for the source map test (tests/e2e/test_sourcemaps.py): built
// minified with a source map, given debug ids and uploaded by sentry-cli. The
// error is thrown two calls deep, so the issue must name these functions.
import * as Sentry from "@sentry/browser";

const params = new URLSearchParams(window.location.search);
const release = params.get("release") || "checkout@1.0.0";
Sentry.init({ dsn: params.get("dsn"), release, environment: "e2e" });

function applyDiscount(total, code) {
  if (code !== "SAVE10") {
    throw new Error(`Unknown discount code ${code}`); // the line the issue must show
  }
  return total * 0.9;
}

function checkoutTotal(items, code) {
  const total = items.reduce((sum, item) => sum + item.price, 0);
  return applyDiscount(total, code);
}

setTimeout(() => {
  document.getElementById("total").textContent = checkoutTotal([{ price: 12 }], params.get("code"));
});
