// The run page's terminal (templates/runners/partials/terminal.html): xterm.js fed by ws/runs/<id>/terminal/.
// Binary frames are the terminal's bytes; JSON frames say the mode (drive/observe) and the end of the run.
// Only a driver's keystrokes and size are sent; the server checks the mode again anyway.
(function () {
  "use strict";
  const panel = document.getElementById("run-terminal");
  if (!panel || !window.Terminal) return;
  const state = panel.querySelector("[data-terminal-state]");
  const replay = panel.querySelector("[data-terminal-replay]");
  const term = new window.Terminal({ cursorBlink: true, fontSize: 13, scrollback: 5000, disableStdin: true });
  const fit = new window.FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(panel.querySelector("[data-terminal]"));
  fit.fit();
  let ws = null;
  let mode = null;

  function say(text) {
    state.textContent = text;
  }
  function sendSize() {
    if (mode === "drive" && ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: "resize", cols: term.cols, rows: term.rows }));
    }
  }
  function connect() {
    term.reset();
    mode = null;
    replay.hidden = true;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(scheme + "//" + location.host + panel.dataset.ws);
    ws.binaryType = "arraybuffer";
    ws.onmessage = function (event) {
      if (typeof event.data !== "string") {
        term.write(new Uint8Array(event.data));
        return;
      }
      const msg = JSON.parse(event.data);
      if (msg.type === "hello") {
        mode = msg.mode;
        panel.dataset.mode = mode;
        term.options.disableStdin = mode !== "drive";
        const live = msg.status === "running" || msg.status === "queued";
        say(!live ? "replay of the finished run" : mode === "drive" ? "live: you can type" : "live: watching (read only)");
        sendSize();
      } else if (msg.type === "end") {
        mode = null;
        term.options.disableStdin = true;
        panel.dataset.ended = msg.status;
        say("run " + msg.status + ": terminal ended");
        replay.hidden = false;
      } else if (msg.type === "error") {
        say(msg.code === "read_only" ? "read only: you cannot type here" : "the run is not running");
      }
    };
    ws.onclose = function (event) {
      if (event.code === 4404) say("no access to this terminal");
      replay.hidden = false;
    };
  }
  term.onData(function (data) {
    if (mode === "drive" && ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: "input", data: data }));
    }
  });
  term.onResize(sendSize);
  window.addEventListener("resize", function () {
    fit.fit();
  });
  replay.addEventListener("click", connect);
  connect();
})();
