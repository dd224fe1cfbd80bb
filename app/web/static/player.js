// Clip player: waveform from precomputed peaks, play/pause, replay 3 s, loop, speed, volume,
// shortcuts. Shortcuts use Esc, Ctrl or Alt so plain letters always type into the text box, and
// wait while an input method composes. Speed, loop and volume carry over to the next clip.
(function () {
  "use strict";
  const root = document.querySelector("[data-player]");
  if (!root) return;
  const audio = root.querySelector("audio");
  const canvas = root.querySelector("canvas");
  const playButton = root.querySelector("#play");
  const replayButton = root.querySelector("#replay");
  const loopButton = root.querySelector("#loop");
  const speedSelect = root.querySelector("#speed");
  const volumeInput = root.querySelector("#volume");
  const timeLabel = root.querySelector("#time");
  const peaks = JSON.parse(canvas.dataset.peaks || "[]");
  const REPLAY_S = 3;
  const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5];
  const SETTINGS_KEY = "crowdscribe.player";

  // The person's last speed, loop and volume, kept by this browser across clips and pages.
  function savedSettings() {
    try {
      return JSON.parse(localStorage.getItem(SETTINGS_KEY)) || {};
    } catch (error) {
      return {};
    }
  }

  function saveSettings() {
    const settings = { speed: audio.playbackRate, loop: audio.loop, volume: audio.volume };
    try {
      localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
    } catch (error) {
      // Private mode or storage full: the settings simply last for this clip.
    }
  }

  function duration() {
    return Number.isFinite(audio.duration) && audio.duration > 0 ? audio.duration : 0;
  }

  function draw() {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth * ratio;
    const height = canvas.clientHeight * ratio;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, width, height);
    const played = duration() ? audio.currentTime / duration() : 0;
    const bars = Math.max(peaks.length, 1);
    const barWidth = width / bars;
    const styles = getComputedStyle(document.documentElement);
    const accent = styles.getPropertyValue("--accent").trim() || "#2457c5";
    for (let i = 0; i < peaks.length; i++) {
      const peak = Math.max(0.02, Math.min(1, Number(peaks[i]) || 0));
      const barHeight = peak * (height - 8);
      ctx.fillStyle = (i + 0.5) / bars <= played ? accent : "#9aa6bd";
      ctx.fillRect(i * barWidth + 0.5, (height - barHeight) / 2, Math.max(1, barWidth - 1), barHeight);
    }
    ctx.fillStyle = "#1d2330";
    ctx.fillRect(Math.round(played * width), 0, Math.max(1, ratio), height);
    timeLabel.textContent = `${audio.currentTime.toFixed(1)} / ${duration().toFixed(1)} s`;
  }

  function tick() {
    draw();
    if (!audio.paused) requestAnimationFrame(tick);
  }

  function setPressed(button, on) {
    button.setAttribute("aria-pressed", on ? "true" : "false");
  }

  function toggle() {
    if (audio.paused) audio.play(); else audio.pause();
  }

  function replay() {
    audio.currentTime = Math.max(0, audio.currentTime - REPLAY_S);
    if (audio.paused) audio.play();
    draw();
  }

  function setLoop(on) {
    audio.loop = on;
    setPressed(loopButton, on);
  }

  function toggleLoop() {
    setLoop(!audio.loop);
    saveSettings();
  }

  function setSpeed(rate) {
    audio.playbackRate = rate;
    // A fresh <audio> resets its rate when it loads; this keeps the chosen one.
    audio.defaultPlaybackRate = rate;
    speedSelect.value = String(rate);
  }

  function setVolume(level) {
    audio.volume = Math.max(0, Math.min(1, level));
    volumeInput.value = String(audio.volume);
  }

  function stepSpeed(direction) {
    const index = SPEEDS.indexOf(audio.playbackRate);
    const next = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, (index < 0 ? 2 : index) + direction))];
    setSpeed(next);
    saveSettings();
  }

  audio.addEventListener("play", () => {
    playButton.textContent = playButton.dataset.labelPause;
    setPressed(playButton, true);
    root.dataset.state = "playing";
    requestAnimationFrame(tick);
  });
  audio.addEventListener("pause", () => {
    playButton.textContent = playButton.dataset.labelPlay;
    setPressed(playButton, false);
    root.dataset.state = "paused";
    draw();
  });
  audio.addEventListener("ended", () => { root.dataset.state = "ended"; draw(); });
  audio.addEventListener("loadedmetadata", draw);
  audio.addEventListener("timeupdate", () => { if (audio.paused) draw(); });
  window.addEventListener("resize", draw);

  playButton.addEventListener("click", toggle);
  replayButton.addEventListener("click", replay);
  loopButton.addEventListener("click", toggleLoop);
  speedSelect.addEventListener("change", () => { setSpeed(Number(speedSelect.value)); saveSettings(); });
  volumeInput.addEventListener("input", () => { setVolume(Number(volumeInput.value)); saveSettings(); });
  canvas.addEventListener("click", (event) => {
    const rect = canvas.getBoundingClientRect();
    if (duration()) audio.currentTime = ((event.clientX - rect.left) / rect.width) * duration();
    draw();
  });

  document.addEventListener("keydown", (event) => {
    // Esc and the rest belong to the input method while it composes (keyCode 229 in Chromium).
    if (event.isComposing || event.keyCode === 229) return;
    let handled = true;
    if (event.key === "Escape" || (event.ctrlKey && event.code === "Space")) toggle();
    else if (event.altKey && event.code === "KeyR") replay();
    else if (event.altKey && event.code === "KeyL") toggleLoop();
    else if (event.altKey && event.key === "ArrowDown") stepSpeed(-1);
    else if (event.altKey && event.key === "ArrowUp") stepSpeed(1);
    else handled = false;
    if (handled) event.preventDefault();
  });

  const saved = savedSettings();
  if (SPEEDS.includes(saved.speed)) setSpeed(saved.speed);
  setLoop(saved.loop === true);
  if (typeof saved.volume === "number") setVolume(saved.volume);
  root.dataset.state = "paused";
  draw();
})();
