// The live checklist of "Verificación de usuario" (templates/passport/accounts/verify.html).
//
// It knows no rule of its own: each <li data-pattern data-whole> of the checklist carries a
// rule of passport/security/password_policy.py, the one definition the server enforces. A
// rule is met when the password, normalised to NFC, contains a match of the pattern
// (data-whole="false") or matches it entirely (data-whole="true"); patterns use the "u" flag
// so that they count code points, as Python does. tests/unit/security/test_password_policy_js.py
// runs evaluate() under Node against the Python rules.
//
// Without this script the form still works: the server checks everything and answers with
// one message per failed rule. Served from /static: the CSP forbids inline scripts.
(function (root) {
  "use strict";

  function ruleIsMet(rule, value) {
    var source = rule.whole ? "^(?:" + rule.pattern + ")$" : rule.pattern;
    return new RegExp(source, "u").test(String(value).normalize("NFC"));
  }

  function evaluate(rules, value) {
    return rules.map(function (rule) {
      return { code: rule.code, met: ruleIsMet(rule, value) };
    });
  }

  var api = { ruleIsMet: ruleIsMet, evaluate: evaluate };
  root.PassportPasswordPolicy = api;
  if (typeof module !== "undefined" && module.exports) {
    module.exports = api;
  }
  if (typeof document === "undefined") {
    return;
  }

  function setText(element, text) {
    if (element && element.textContent !== text) {
      element.textContent = text;
    }
  }

  function setup(form) {
    var input = form.querySelector("[data-password-input]");
    var confirmation = form.querySelector("[data-password-confirmation]");
    var list = form.querySelector("[data-password-checklist]");
    var status = form.querySelector("[data-password-status]");
    var match = form.querySelector("[data-password-match]");
    var submit = form.querySelector("[data-password-submit]");
    if (!input || !list) {
      return;
    }
    var items = Array.prototype.slice.call(list.querySelectorAll("li[data-pattern]"));
    var rules = items.map(function (item) {
      return {
        code: item.getAttribute("data-rule"),
        pattern: item.getAttribute("data-pattern"),
        whole: item.getAttribute("data-whole") === "true",
        item: item,
      };
    });
    var metText = list.getAttribute("data-met-text");
    var unmetText = list.getAttribute("data-unmet-text");
    var isReady = false;
    var rulesMet = false;

    function update() {
      var value = input.value;
      var missing = [];
      rules.forEach(function (rule) {
        var met = ruleIsMet(rule, value);
        rule.item.classList.toggle("is-met", met);
        rule.item.classList.toggle("is-unmet", !met);
        setText(rule.item.querySelector("[data-rule-icon]"), met ? "✔" : "✘");
        setText(rule.item.querySelector("[data-rule-state]"), met ? metText : unmetText);
        if (!met) {
          missing.push(rule.item.querySelector("[data-rule-label]").textContent.trim());
        }
      });
      rulesMet = missing.length === 0;
      var confirmed = confirmation && confirmation.value !== "" && confirmation.value === value;
      if (match) {
        var typed = confirmation && confirmation.value !== "";
        setText(match, typed ? match.getAttribute(confirmed ? "data-match-text" : "data-mismatch-text") : "");
      }
      if (!confirmed && status) {
        missing.push(status.getAttribute("data-confirmation-text"));
      }
      isReady = missing.length === 0;
      if (status) {
        setText(
          status,
          isReady
            ? status.getAttribute("data-ready-text")
            : status.getAttribute("data-pending-text") + " " + missing.join("; ") + "."
        );
      }
      if (submit) {
        // aria-disabled, not disabled: the button stays focusable and its description
        // (the status above) tells a screen reader why it does nothing yet.
        submit.setAttribute("aria-disabled", isReady ? "false" : "true");
      }
    }

    input.addEventListener("input", update);
    if (confirmation) {
      confirmation.addEventListener("input", update);
    }
    form.addEventListener("submit", function (event) {
      update();
      if (!isReady) {
        event.preventDefault();
        (rulesMet && confirmation ? confirmation : input).focus();
      }
    });
    update();
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-password-form]"), setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})(typeof window !== "undefined" ? window : globalThis);
