"""Synthetic GRID-format audio-visual corpus: espeak-ng speech + rendered talking faces in sync.

Public API
----------
generate_corpus(out, *, speakers, utterances, seed, corrupt_fraction, workers)
    Write (or resume) a corpus in GRID's layout; see :mod:`.corpus`.
plan_corpus(config) / load_manifest(corpus_dir)
    The deterministic plan (= ``manifest.json``).
contact_sheet(corpus_dir, out_png)
    Image of several speakers: face, mouth on b/p/m, f/v and an open vowel, plus mouth crops.
visual_ceiling(spec)
    Expected word accuracy of an ideal lip reader of the rendered mouths, per position (:mod:`.ceiling`).
clip_timing(spec, utt_id, index=, seed=) / word_starts(words, phonemes)
    espeak-ng's timing of a clip; word starts as written to ``.align``.
mouth_interior(frames, boxes=)
    Cavity and teeth pixels between the lips of decoded frames (closed lips, teeth band).
clip_sync(video, audio, *, box)
    Audio-visual sync measured from decoded pixels and audio.
"""

from .corpus import (CORRUPTION_KINDS, GENERATOR_VERSION, VOICE_PRESETS, CorpusConfig, CorpusReport, SpeakerSpec,
                     clip_complete, generate_clip, generate_corpus, load_manifest, plan_corpus, read_mouth_params,
                     speaker_spec, spoken_text, clip_timing, word_starts)
from .ceiling import visual_ceiling
from .sheet import contact_sheet
from .sync import clip_sync, lagged_correlation, mouth_interior, mouth_opening, read_video_frames, speech_envelope

__all__ = ["CORRUPTION_KINDS", "GENERATOR_VERSION", "VOICE_PRESETS", "CorpusConfig", "CorpusReport", "SpeakerSpec",
           "clip_complete", "generate_clip", "generate_corpus", "load_manifest", "plan_corpus", "read_mouth_params",
           "speaker_spec", "spoken_text", "contact_sheet", "clip_sync", "lagged_correlation", "mouth_opening",
           "read_video_frames", "speech_envelope", "mouth_interior", "clip_timing", "word_starts", "visual_ceiling"]
