import numpy as np
import pytest
from scipy.io import wavfile

from lip2audspec import DataError, ParameterError
from lip2audspec.auditory import load_audio, read_wav, resample, write_wav


def test_write_read_round_trip(tmp_path, rng):
    x = 0.5 * rng.uniform(-1, 1, 8000)
    p = write_wav(tmp_path / "a.wav", x, sr=16000)
    y, sr = read_wav(p)
    assert sr == 16000 and y.shape == x.shape
    assert np.abs(y - x).max() < 1 / 32768 + 1e-12
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_stereo_int32_25k_resampled_to_shift(tmp_path):
    sr = 25000
    t = np.arange(sr) / sr
    tone = np.sin(2 * np.pi * 440 * t)
    stereo = np.stack([tone, tone], axis=1)
    wavfile.write(tmp_path / "s.wav", sr, (stereo * 2**30).astype(np.int32))
    x = load_audio(tmp_path / "s.wav", shift=-1)  # 8 kHz
    assert x.shape == (8000,)
    spec = np.abs(np.fft.rfft(x))
    assert abs(np.argmax(spec) * 8000 / len(x) - 440) < 2
    xs, _ = read_wav(tmp_path / "s.wav", mono=False)
    assert xs.shape == (2, sr)


def test_uint8_and_float_wavs(tmp_path):
    wavfile.write(tmp_path / "u8.wav", 8000, np.full(100, 192, np.uint8))
    x, _ = read_wav(tmp_path / "u8.wav")
    assert np.allclose(x, 0.5)
    wavfile.write(tmp_path / "f.wav", 8000, np.full(100, 0.25, np.float32))
    x, _ = read_wav(tmp_path / "f.wav")
    assert np.allclose(x, 0.25)


def test_bad_audio_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_wav(tmp_path / "missing.wav")
    (tmp_path / "bad.wav").write_bytes(b"RIFF\x00\x00garbage")
    with pytest.raises(DataError, match="cannot read"):
        read_wav(tmp_path / "bad.wav")
    wavfile.write(tmp_path / "nan.wav", 8000, np.array([0.1, np.nan], np.float32))
    with pytest.raises(DataError, match="NaN"):
        read_wav(tmp_path / "nan.wav")


def test_write_wav_validation(tmp_path):
    with pytest.raises(ParameterError, match="NaN"):
        write_wav(tmp_path / "x.wav", np.array([0.0, np.nan]), sr=8000)
    with pytest.raises(ParameterError, match="sample rate"):
        write_wav(tmp_path / "x.wav", np.zeros(10), sr=0)
    p = write_wav(tmp_path / "n.wav", np.array([0.0, 0.1, -0.2]), sr=8000, normalize=True)
    y, _ = read_wav(p)
    assert abs(np.abs(y).max() - 0.99) < 1e-3


def test_resample_lengths():
    assert resample(np.zeros(25000), sr_in=25000, sr_out=16000).shape == (16000,)
    assert resample(np.zeros((2, 22050)), sr_in=22050, sr_out=16000).shape == (2, 16000)
    with pytest.raises(ParameterError):
        resample(np.zeros(10), sr_in=0, sr_out=16000)


def test_peak_normalize():
    from lip2audspec.auditory import peak_normalize

    y = peak_normalize(np.array([0.0, -0.5, 0.25]))
    np.testing.assert_allclose(y, [0.0, -0.99, 0.495])
    np.testing.assert_array_equal(peak_normalize(np.zeros(3)), np.zeros(3))
