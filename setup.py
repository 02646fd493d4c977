"""Install lip2audspec: ``pip install -e .`` (add ``[dev]`` for tests and benchmarks)."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r'__version__ = "([^"]+)"', (HERE / "lip2audspec" / "__init__.py").read_text()).group(1)

INSTALL_REQUIRES = [
    "numpy>=1.24",
    "scipy>=1.10",
    # numba: compiles the channel-interleaved IIR kernels of wav2aud/aud2wav (about 10x the speed of a
    # per-channel scipy.signal.lfilter port at identical float64 results; see benchmarks/bench_auditory.py).
    "numba>=0.59",
    "matplotlib>=3.7",
    "tqdm>=4.60",
    # synthetic GRID corpus: speech synthesis (libespeak-ng shipped in a wheel) and video I/O
    "espeakng-loader>=0.2.4",
    "opencv-python-headless>=4.8,<5",
    # prepared datasets
    "h5py>=3.8",
    "av>=12",  # PyAV: speech from the video's own audio track (real GRID .mpg, MP2); ships its own FFmpeg
    # 'landmarks' mouth cropper: dlib's 68-point shape predictor (prebuilt wheels) and its model file
    "dlib-bin>=19.24",
    "face-recognition-models>=0.3",
    # models and training (TensorFlow backend; the CPU build is enough here, GPU machines may install
    # tensorflow[and-cuda] instead)
    "tensorflow-cpu>=2.21",
    "keras>=3.15",
    "tensorboard>=2.20",  # TensorBoard logs of training runs (not pulled in by tensorflow-cpu 2.21)
    # evaluation: intelligibility/quality metrics and an offline word recogniser (bundles its English model)
    "pystoi>=0.4",
    "pesq>=0.0.4",
    "jiwer>=3.0",
    "pocketsphinx>=5.0",
    # confusion matrices of the recognised words (evaluation reports), PCA of bottleneck codes (plots)
    "scikit-learn>=1.3",
]

NOTEBOOKS = [
    # run the experiment notebooks (open them in any Jupyter front end; the tests execute them with nbclient)
    "ipykernel>=6.29",
    "ipywidgets>=8.1",  # tqdm's notebook progress bars
    "nbclient>=0.10",
    "nbformat>=5.10",
]

DISTRIBUTED = [
    # preparation on a Dask cluster (lip2audspec prepare --scheduler local:N | tcp://host:8786; lip2audspec/cluster.py);
    # tested with dask/distributed 2026.8.0
    "dask[distributed]>=2024.1",
]

EXTRAS = {
    "notebooks": NOTEBOOKS,
    "distributed": DISTRIBUTED,
    "dev": ["pytest>=7", "pytest-xdist>=3", *NOTEBOOKS, *DISTRIBUTED],
}

setup(
    name="lip2audspec",
    version=VERSION,
    description="Speech reconstruction from silent lip video (Lip2AudSpec) with a fast NSL auditory spectrogram port",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.10",
    packages=find_packages(include=["lip2audspec", "lip2audspec.*"]),
    package_data={
        "lip2audspec.auditory": ["data/*.npy", "data/README.md"],
        # bundled pretrained models (lip2audspec/pretrained/bundles.py): card, statistics, trimmed run folders
        "lip2audspec.pretrained": ["models/*/*.md", "models/*/*.json", "models/*/*/*.json", "models/*/*/*.keras"],
    },
    include_package_data=True,
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS,
    entry_points={
        "console_scripts": [
            "lip2audspec=lip2audspec.cli.main:main",
            "train_autoencoder=lip2audspec.cli.train_autoencoder:main",
            "train_main=lip2audspec.cli.train_main:main",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Multimedia :: Sound/Audio :: Speech",
        "Topic :: Scientific/Engineering",
    ],
)
