// Solves the proof of work (ALTCHA-style) of the appointment hold form in
// the background: finds the number n (0 ..= maxnumber) whose
// hex(SHA-256(salt + n)) equals the challenge, and writes
// base64(JSON {algorithm, challenge, number, salt, signature}) into the
// form's hidden `pow` field. The form can be sent at any time: without a
// solution (no JavaScript, or not solved yet) the server holds the time all
// the same and relies on the e-mail confirmation.
(function () {
  "use strict";
  if (!window.crypto || !window.crypto.subtle || !window.TextEncoder || !window.Promise) return;
  var BATCH = 500;
  var encoder = new TextEncoder();

  function hex(buffer) {
    var bytes = new Uint8Array(buffer);
    var out = "";
    for (var i = 0; i < bytes.length; i++) {
      out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    }
    return out;
  }

  function digest(salt, n) {
    return window.crypto.subtle.digest("SHA-256", encoder.encode(salt + n)).then(hex);
  }

  // Checks the numbers start .. start + BATCH - 1 (at most max) at once;
  // resolves with the number found or null.
  function batch(c, start, max) {
    var jobs = [];
    for (var n = start; n < start + BATCH && n <= max; n++) {
      jobs.push(digest(c.salt, n));
    }
    return Promise.all(jobs).then(function (hashes) {
      var target = c.challenge.toLowerCase();
      for (var i = 0; i < hashes.length; i++) {
        if (hashes[i] === target) return start + i;
      }
      return null;
    });
  }

  function solve(c) {
    var max = Math.max(0, Math.min(Number(c.maxnumber) || 0, 10000000));
    function from(start) {
      if (start > max) return Promise.resolve(null);
      return batch(c, start, max).then(function (found) {
        if (found !== null) return found;
        // Give the page a moment between batches.
        return new Promise(function (resolve) {
          window.setTimeout(function () { resolve(from(start + BATCH)); }, 0);
        });
      });
    }
    return from(0);
  }

  function encode(c, number) {
    var json = JSON.stringify({
      algorithm: c.algorithm,
      challenge: c.challenge,
      number: number,
      salt: c.salt,
      signature: c.signature
    });
    return window.btoa(json);
  }

  var forms = document.querySelectorAll("form[data-pow-challenge]");
  Array.prototype.forEach.call(forms, function (form) {
    var input = form.querySelector("input[name=pow]");
    if (!input) return;
    var c;
    try {
      c = JSON.parse(form.getAttribute("data-pow-challenge"));
    } catch (e) {
      return;
    }
    if (!c || typeof c.salt !== "string" || typeof c.challenge !== "string" || c.algorithm !== "SHA-256") return;
    solve(c).then(function (number) {
      if (number !== null) input.value = encode(c, number);
    }, function () { /* leave the field empty: the server holds without it */ });
  });
})();
