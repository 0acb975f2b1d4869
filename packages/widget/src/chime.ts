let audio: AudioContext | undefined;

/**
 * A short two-note chime for a new message, synthesised with Web Audio (no sound file to fetch or
 * pin). The first call must come from a user gesture (the visitor opening the chat or turning sound
 * on), or the browser keeps the audio context suspended and the chime is silent.
 */
export function chime(): void {
  try {
    audio ??= new AudioContext();
    const start = audio.currentTime;
    const gain = audio.createGain();
    gain.connect(audio.destination);
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.15, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.4);
    for (const [frequency, at] of [
      [880, 0],
      [1320, 0.12],
    ] as const) {
      const tone = audio.createOscillator();
      tone.frequency.value = frequency;
      tone.connect(gain);
      tone.start(start + at);
      tone.stop(start + 0.4);
    }
  } catch {
    // No audio device, or audio blocked by the browser: a silent chime is fine.
  }
}
