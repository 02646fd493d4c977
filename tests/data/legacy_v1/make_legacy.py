import json, sys
from pathlib import Path
from lip2audspec.data.synthetic import generate_corpus
from lip2audspec.data.crop import CropConfig
from lip2audspec.data.prepare import PrepareConfig, prepare_grid
from lip2audspec.models import AutoencoderConfig, LipNetConfig
from lip2audspec.training import TrainConfig, train_autoencoder, train_lipnet
import lip2audspec
print(lip2audspec.__file__)
out = Path("/tmp/legacy/v1")
generate_corpus(out / "grid", speakers=2, utterances=3, seed=3, workers=1, progress=False)
prepare_grid(out / "grid", out / "prepared", config=PrepareConfig(crop=CropConfig(method="haar", size=16), fractions=(0.34, 0.33, 0.33)), progress=False)
ae = AutoencoderConfig(encoder_units=(16,), bottleneck=8, decoder_units=(16,), learning_rate=1e-3, batch_size=64)
lip = LipNetConfig(context=1, crop_size=16, conv_filters=(4, 4), pool_after=(1, 2), dropout_after=(2,), lstm_units=8, dense_units=16, out_dim=8, learning_rate=1e-3, batch_size=8, augment_seed=1)
tc = TrainConfig(epochs=2, verbose=0, tensorboard=False, seed=5)
print(train_autoencoder(out / "prepared", out / "ae", model_config=ae, train_config=tc)["epochs_done"])
print(train_lipnet(out / "prepared", out / "lip", model_config=lip, train_config=tc, autoencoder_run=out / "ae")["epochs_done"])
