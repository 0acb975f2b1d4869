let audio: AudioContext | undefined;

/**
 * A short chime for a new message, synthesised with Web Audio (no sound file to fetch or pin). The
 * first call must come from a user gesture (the visitor opening the chat or turning sound on), or
 * the browser keeps the audio context suspended and the chime is silent.
 */
export function chime(): void {
  try {
    audio ??= new AudioContext();
    const at = audio.currentTime;
    const gain = new GainNode(audio, { gain: 0.15 });
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.4);
    const tone = new OscillatorNode(audio, { frequency: 880 });
    tone.connect(gain).connect(audio.destination);
    tone.frequency.setValueAtTime(1320, at + 0.12);
    tone.start(at);
    tone.stop(at + 0.4);
  } catch {
    // No audio device, or audio blocked by the browser: a silent chime is fine.
  }
}
