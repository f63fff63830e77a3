// The drawing page: strokes drawn with Pointer Events (mouse, pen, touch), sent to the server
// after each stroke as lists of [x, y] canvas pixels (POST api/read); the server reads them
// exactly as the desktop app reads its drawing and answers with the number: each digit with its
// box, its ten shares, how sure it is and the 28x28 picture the network read. One digit is shown
// as it always was; a number gets a box around each digit and a button per digit to show its
// shares and picture. Ctrl-Z (or Undo) takes back the last stroke. Plain JavaScript, no
// libraries, no build step.
"use strict";

(function () {
  // The desktop app's canvas and brush (digits/imaging/strokes.py). The canvas keeps these
  // logical pixels whatever size it is shown at; pointer positions are mapped back to them.
  const WIDTH = 350, HEIGHT = 290, BRUSH = 16;

  const pad = document.getElementById("pad");
  const ctx = pad.getContext("2d");
  const clearButton = document.getElementById("clear");
  const select = document.getElementById("model");
  const digitOut = document.getElementById("digit");
  const message = document.getElementById("message");
  const answer = document.getElementById("answer");
  const bars = document.getElementById("bars");
  const barEls = Array.from(bars.querySelectorAll(".bar"));
  const slotEls = Array.from(bars.querySelectorAll(".slot"));
  const inputView = document.getElementById("input");
  const inputCtx = inputView.getContext("2d");
  const networkLine = document.getElementById("network");
  const undoButton = document.getElementById("undo");
  const digitRow = document.getElementById("digits");
  const BOX = "#ffb300";     // the boxes around the digits read, as in the desktop app
  const teach = document.getElementById("teach");
  const teachButtons = Array.from(teach.querySelectorAll("button[data-label]"));
  const kept = document.getElementById("kept");

  let limits = { max_strokes: 200, max_points: 10000 };   // replaced by the server's
  let strokes = [];          // each a list of [x, y] in canvas pixels, as sent to the server
  let current = null;        // the stroke being drawn
  let pointerId = null;      // the one pointer drawing it (a second finger is ignored)
  let asked = 0;             // requests sent; an answer to an older one is dropped
  let reading = null;        // the server's last answer (a number), for its boxes and digits
  let keepsSamples = false;  // the server keeps labelled drawings (web.py --samples FILE)
  const INTRO = "Write a digit to begin.";

  // Drawing ------------------------------------------------------------------------------

  function fitBackingStore() {
    // Sharp strokes on high-density screens: the bitmap has device pixels, the drawing
    // commands keep using the 350x290 logical pixels.
    const ratio = Math.max(1, Math.min(window.devicePixelRatio || 1, 4));
    const w = Math.round(WIDTH * ratio), h = Math.round(HEIGHT * ratio);
    if (pad.width !== w || pad.height !== h) {
      pad.width = w;
      pad.height = h;
    }
    ctx.setTransform(w / WIDTH, 0, 0, h / HEIGHT, 0, 0);
    redraw();
  }

  function segment(p, q) {
    // As Tk draws it: a round dot for a press, round-capped lines for the moves.
    ctx.fillStyle = ctx.strokeStyle = "#fff";
    if (p[0] === q[0] && p[1] === q[1]) {
      ctx.beginPath();
      ctx.arc(p[0], p[1], BRUSH / 2, 0, 2 * Math.PI);
      ctx.fill();
    } else {
      ctx.lineWidth = BRUSH;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.beginPath();
      ctx.moveTo(p[0], p[1]);
      ctx.lineTo(q[0], q[1]);
      ctx.stroke();
    }
  }

  function redraw() {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, WIDTH, HEIGHT);
    for (const s of strokes) {
      segment(s[0], s[0]);
      for (let i = 1; i < s.length; i++) segment(s[i - 1], s[i]);
    }
    drawBoxes();
  }

  function drawBoxes() {
    // A box around each digit of a number, its digit and confidence above it (on screen only:
    // the server is sent the strokes, never this picture).
    if (!reading || reading.digits.length < 2) return;
    ctx.strokeStyle = ctx.fillStyle = BOX;
    ctx.lineWidth = 2;
    ctx.font = "bold 12px system-ui, sans-serif";
    for (const d of reading.digits) {
      const [x0, y0, x1, y1] = d.box;
      ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
      ctx.fillText(`${d.digit} ${(100 * d.confidence).toFixed(0)}%${d.sure ? "" : "?"}`, x0 + 2,
                   y0 > 14 ? y0 - 3 : y0 + 13);
    }
  }

  function canvasPoint(e) {
    // Client (CSS) pixels -> the canvas's own pixels, whole as a mouse's are; a pen that
    // leaves the canvas while drawing is kept within one canvas size of it.
    const r = pad.getBoundingClientRect();
    const x = Math.round((e.clientX - r.left) * WIDTH / r.width);
    const y = Math.round((e.clientY - r.top) * HEIGHT / r.height);
    return [Math.min(Math.max(x, -WIDTH), 2 * WIDTH), Math.min(Math.max(y, -HEIGHT), 2 * HEIGHT)];
  }

  function pointCount() {
    return strokes.reduce((n, s) => n + s.length, 0);
  }

  function addPoint(e) {
    const p = canvasPoint(e);
    const last = current[current.length - 1];
    if (p[0] === last[0] && p[1] === last[1]) return;
    if (pointCount() >= limits.max_points) {
      showProblem("The drawing is too long to read: press Clear and write the digit again.");
      return;
    }
    segment(last, p);
    current.push(p);
  }

  function onDown(e) {
    if (pointerId !== null || (e.pointerType === "mouse" && e.button !== 0)) return;
    e.preventDefault();
    if (strokes.length >= limits.max_strokes || pointCount() >= limits.max_points) {
      showProblem("The drawing is too long to read: press Clear and write the digit again.");
      return;
    }
    pointerId = e.pointerId;
    pad.setPointerCapture(e.pointerId);
    showKept("");
    const p = canvasPoint(e);
    current = [p];
    strokes.push(current);
    segment(p, p);
  }

  function onMove(e) {
    if (e.pointerId !== pointerId) return;
    e.preventDefault();
    // All the positions the browser merged into this event: smooth, fast strokes.
    const events = (e.getCoalescedEvents && e.getCoalescedEvents()) || [];
    for (const each of (events.length ? events : [e])) addPoint(each);
  }

  function onUp(e) {
    if (e.pointerId !== pointerId) return;
    if (e.type === "pointerup") addPoint(e);
    pointerId = null;
    current = null;
    predict();            // live: the answer follows the drawing, stroke by stroke
  }

  // Talking to the server ----------------------------------------------------------------

  async function predict() {
    const mine = ++asked;
    if (!strokes.length) {
      showNothing(INTRO);
      return;
    }
    answer.setAttribute("aria-busy", "true");
    const body = { strokes: strokes, width: WIDTH, height: HEIGHT };
    if (select.value) body.model = select.value;
    pad.dataset.sent = JSON.stringify(body);      // what was read (the tests send it to the API)
    const { ok, data } = await postJson("api/read", body, "");
    if (mine !== asked) return;       // cleared, or a newer stroke is being read
    answer.removeAttribute("aria-busy");
    if (!ok) {
      // The old answer is not this drawing's: no digit, boxes, bars or picture beside the error.
      showNothing("");
      showProblem(data.error || "The server could not read the drawing.");
    } else {
      showNumber(data);
    }
  }

  async function postJson(url, body, unreachable) {
    // {ok, data}: the server's answer, or an error saying it cannot be reached (+ `unreachable`).
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      return { ok: response.ok, data: await response.json() };
    } catch (err) {
      return { ok: false, data: { error: "Cannot reach the server: is python web.py still running?" + unreachable } };
    }
  }

  async function loadModels() {
    try {
      const response = await fetch("api/models");
      const data = await response.json();
      if (!response.ok) throw new Error(data.error);
      limits = Object.assign(limits, data.limits || {});
      keepsSamples = data.samples === true;
      select.textContent = "";
      for (const m of data.models) {
        const option = document.createElement("option");
        option.value = m.id;
        option.textContent = m.label;
        option.title = m.network;
        option.selected = m.default;
        select.append(option);
      }
      select.disabled = data.models.length < 2;
      select.title = selectedNetwork();       // the architecture, as each option's tooltip
      document.body.dataset.ready = "true";
    } catch (err) {
      showProblem("Cannot reach the server: is python web.py still running?");
    }
  }

  // Showing the answer -------------------------------------------------------------------

  function showNumber(data) {
    // One digit (or none): as the page always showed it. A number: the number, a box around
    // each digit, and a button per digit; the last digit's shares and picture to begin with.
    reading = data;
    redraw();
    digitRow.textContent = "";
    const digits = data.digits;
    digitOut.classList.toggle("number", digits.length > 1);
    if (digits.length < 2) {
      const d = digits[0];
      show(d ? { digit: d.digit, probabilities: d.probabilities, sure: d.sure, message: d.message,
                 image: d.image, model: data.model, network: data.network }
             : { digit: null, probabilities: null, sure: false, message: data.message, image: null,
                 model: data.model, network: data.network || selectedNetwork() });
      // A drawing read as "not a digit" (left out) can be corrected too.
      if (!d) offerTeaching(null, data.left_out.length > 0);
      return;
    }
    digits.forEach((d, i) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `${d.digit} ${(100 * d.confidence).toFixed(0)}%`;
      button.title = `Show digit ${i + 1}'s shares and the picture the network read`;
      button.addEventListener("click", () => selectDigit(i));
      digitRow.append(button);
    });
    selectDigit(digits.length - 1);
  }

  function selectDigit(i) {
    const d = reading.digits[i];
    show({ digit: d.digit, probabilities: d.probabilities, sure: reading.digits.every((e) => e.sure),
           message: `${reading.message} Digit ${i + 1}: ${d.message}`, image: d.image,
           model: reading.model, network: reading.network });
    digitOut.textContent = reading.number;
    offerTeaching(null, false);     // "That was a..." is for one digit at a time
    Array.from(digitRow.children).forEach((b, j) => b.setAttribute("aria-pressed", String(j === i)));
  }

  function show(data) {
    digitOut.textContent = data.digit === null ? "" : String(data.digit);
    digitOut.classList.toggle("unsure", data.digit !== null && !data.sure);
    message.textContent = data.message;
    message.classList.remove("problem");
    const p = data.probabilities || new Array(10).fill(0);
    barEls.forEach((bar, d) => {
      bar.style.transform = `scaleY(${p[d].toFixed(4)})`;
      bar.classList.toggle("winner", d === data.digit);
      slotEls[d].title = `${d}: ${(100 * p[d]).toFixed(0)}%`;
    });
    bars.setAttribute("aria-label", data.probabilities
      ? "Shares of the ten digits: " + p.map((v, d) => `${d}: ${(100 * v).toFixed(0)}%`).join(", ")
      : "Shares of the ten digits: none");
    drawInput(data.image);
    showNetwork(data.model, data.network);
    offerTeaching(data.digit, data.image !== null && data.image !== undefined);
  }

  function showNetwork(model, architecture) {
    // People read "the pretrained convolutional network"; the architecture is in its tooltip.
    const option = Array.from(select.options).find((o) => o.value && o.value === model);
    networkLine.textContent = `Read by the ${option ? option.textContent : "server's network"}.`;
    networkLine.title = architecture || "";
  }

  function showNothing(text) {
    reading = null;
    digitRow.textContent = "";
    digitOut.classList.remove("number");
    show({ digit: null, probabilities: null, sure: false, message: text, image: null,
           model: select.value, network: selectedNetwork() });
  }

  function showProblem(text) {
    message.textContent = text;
    message.classList.add("problem");
  }

  function selectedNetwork() {
    const option = select.selectedOptions[0];
    return option && option.value ? option.title : "";
  }

  // Teaching it your handwriting ---------------------------------------------------------

  function offerTeaching(digit, somethingRead) {
    // "That was a ..." under an answer (a digit, or "not a digit"), when the server keeps
    // samples: the digit read confirms the reading, any other corrects it.
    teach.hidden = !(keepsSamples && somethingRead && strokes.length > 0);
    for (const button of teachButtons) {
      const label = Number(button.dataset.label);
      button.classList.toggle("read", label === digit);
      button.title = label === digit ? `Yes, it is a ${label}: keep it as a confirmed sample`
                                     : `No, it was a ${label}: keep it as a correction`;
    }
  }

  async function keepAs(label) {
    const body = { strokes: strokes, width: WIDTH, height: HEIGHT, label: label };
    if (select.value) body.model = select.value;
    teach.hidden = true;          // one sample per drawing
    const { ok, data } = await postJson("api/samples", body, " The drawing was not kept.");
    if (ok) {
      clear();                    // ready for the next digit
      showKept(`${data.message} Thank you: write another.`);
    } else {
      teach.hidden = false;
      showKept(data.error || "The server could not keep the drawing.", true);
    }
  }

  function showKept(text, problem) {
    kept.textContent = text;
    kept.classList.toggle("problem", !!problem);
  }

  function drawInput(image) {
    // The 28x28 input, grey levels 0..1, one canvas pixel each (CSS enlarges it, pixelated).
    const picture = inputCtx.createImageData(28, 28);
    if (image) {
      for (let r = 0; r < 28; r++) {
        for (let c = 0; c < 28; c++) {
          const v = Math.round(255 * Math.min(1, Math.max(0, image[r][c])));
          const i = 4 * (28 * r + c);
          picture.data[i] = picture.data[i + 1] = picture.data[i + 2] = v;
          picture.data[i + 3] = 255;
        }
      }
    } else {
      for (let i = 3; i < picture.data.length; i += 4) picture.data[i] = 255;
    }
    inputCtx.putImageData(picture, 0, 0);
  }

  function undo() {
    // Take back the last stroke and read what is left.
    if (pointerId !== null || !strokes.length) return;
    strokes.pop();
    reading = null;
    redraw();
    predict();
  }

  function clear() {
    reading = null;
    strokes = [];
    current = null;
    pointerId = null;
    asked++;                    // an answer still on its way is for the old drawing
    answer.removeAttribute("aria-busy");
    redraw();
    showNothing(INTRO);
  }

  // Wiring -------------------------------------------------------------------------------

  pad.addEventListener("pointerdown", onDown);
  pad.addEventListener("pointermove", onMove);
  pad.addEventListener("pointerup", onUp);
  pad.addEventListener("pointercancel", onUp);
  pad.addEventListener("lostpointercapture", onUp);
  pad.addEventListener("contextmenu", (e) => e.preventDefault());   // a long press draws
  clearButton.addEventListener("click", clear);
  undoButton.addEventListener("click", undo);
  for (const button of teachButtons) {
    button.addEventListener("click", () => keepAs(Number(button.dataset.label)));
  }
  select.addEventListener("change", () => {
    select.title = selectedNetwork();
    if (strokes.length) predict();
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      clear();
    } else if ((e.ctrlKey || e.metaKey) && (e.key === "z" || e.key === "Z")) {
      e.preventDefault();
      undo();
    } else if (/^[0-9]$/.test(e.key) && !teach.hidden && !e.ctrlKey && !e.altKey && !e.metaKey
               && e.target.tagName !== "SELECT") {
      e.preventDefault();
      keepAs(Number(e.key));
    }
  });
  window.addEventListener("resize", fitBackingStore);

  fitBackingStore();
  drawInput(null);
  loadModels();
})();
