/* 平安通 alarm console: live rows over the websocket, ages against 60 s / 180 s, a sound per
   priority that repeats until the alarm is claimed. The htmx poll on #alarm-rows covers a lost socket. */
(function () {
  "use strict";
  var tbody = document.getElementById("alarm-rows");
  var statusBadge = document.getElementById("live-status");
  var timeline = document.getElementById("alarm-timeline");
  var state = { messages: 0, connected: false, sound: false, beeps: 0 };
  var audio = null;

  function fmt(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }

  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll("[data-age-since]").forEach(function (el) {
      var age = now - Number(el.dataset.ageSince);
      el.textContent = fmt(age);
      el.classList.remove("age-ok", "age-warn", "age-late");
      el.classList.add(age < 60 ? "age-ok" : age < 180 ? "age-warn" : "age-late");
    });
  }

  function sortRows() {
    if (!tbody) return;
    var rows = Array.prototype.slice.call(tbody.querySelectorAll("tr.alarm-row"));
    rows.sort(function (a, b) {
      return (a.dataset.priority - b.dataset.priority) || (a.dataset.raised - b.dataset.raised);
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
    var empty = tbody.querySelector("tr.empty-row");
    if (empty && rows.length) empty.remove();
  }

  function apply(msg) {
    if (!tbody) return;
    var existing = document.getElementById("alarm-" + msg.id);
    if (msg.status === "closed") {
      if (existing) existing.remove();
    } else {
      var holder = document.createElement("tbody");
      holder.innerHTML = msg.html.trim();
      var row = holder.firstElementChild;
      if (existing) existing.replaceWith(row); else tbody.appendChild(row);
      if (window.htmx) window.htmx.process(row);
    }
    sortRows();
    tick();
  }

  function setStatus(text, cls) {
    if (!statusBadge) return;
    statusBadge.textContent = text;
    statusBadge.className = "badge " + cls;
    statusBadge.dataset.state = state.connected ? "live" : "offline";
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + "/ws/alarms/");
    ws.onopen = function () { state.connected = true; setStatus("实时 live", "text-bg-success"); };
    ws.onmessage = function (ev) {
      var msg = JSON.parse(ev.data);
      if (msg.type === "alarm") {
        state.messages += 1;
        apply(msg);
        // On the alarm screen: refresh the timeline at once when this alarm changed.
        if (timeline && String(msg.id) === timeline.dataset.alarmId && window.htmx) {
          window.htmx.trigger(timeline, "alarm-changed");
        }
      }
    };
    ws.onclose = function () {
      state.connected = false;
      setStatus("轮询 polling", "text-bg-warning");
      setTimeout(connect, 3000);
    };
  }

  // Web Audio beeps: priority 1 three high beeps every 2 s, 2 two every 4 s, others one every 8 s.
  var PATTERN = { 1: [880, 3, 2000], 2: [660, 2, 4000], 3: [440, 1, 8000] };
  var lastBeep = 0;
  function beep(freq, count) {
    if (!audio) return;
    for (var i = 0; i < count; i++) {
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = freq;
      osc.connect(gain); gain.connect(audio.destination);
      var t = audio.currentTime + i * 0.25;
      gain.gain.setValueAtTime(0.25, t); gain.gain.exponentialRampToValueAtTime(0.001, t + 0.2);
      osc.start(t); osc.stop(t + 0.21);
    }
    state.beeps += 1;
  }
  function soundLoop() {
    var waiting = document.querySelectorAll('tr.alarm-row[data-status="open"]');
    if (!waiting.length) return;
    var top = 9;
    // An escalated alarm (unclaimed past the limit) sounds like priority 1 whatever its priority.
    waiting.forEach(function (r) { top = Math.min(top, r.dataset.escalated ? 1 : Number(r.dataset.priority)); });
    var p = PATTERN[Math.min(top, 3)];
    if (Date.now() - lastBeep >= p[2]) { lastBeep = Date.now(); if (state.sound) beep(p[0], p[1]); }
  }

  window.alarmConsole = {
    state: state,
    setSound: function (on) {
      state.sound = on;
      if (on && !audio) { var Ctx = window.AudioContext || window.webkitAudioContext; if (Ctx) audio = new Ctx(); }
      if (audio && audio.state === "suspended") audio.resume();
    },
  };

  document.body.addEventListener("htmx:afterSwap", function () { sortRows(); tick(); });
  setInterval(tick, 1000);
  setInterval(soundLoop, 500);
  tick();
  if (tbody) sortRows();
  if (tbody || timeline) connect();
})();
