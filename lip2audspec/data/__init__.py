"""Feature preparation: from a corpus (:mod:`lip2audspec.corpora`) to training-ready datasets.

* :mod:`.video`: reading, probing and writing clip videos (25 fps grayscale frames);
* :mod:`.audio`: the speech inside a video file (its audio track, via PyAV);
* :mod:`.crop`: mouth croppers (mask, Haar cascade, dlib landmarks);
* :mod:`.targets`: auditory-spectrogram targets of the clips' audio;
* :mod:`.inputs`: context windows of mouth crops (the lip network's input);
* :mod:`.dataset`: the prepared HDF5 dataset (:class:`~.dataset.GridDataset`) and its splits;
* :mod:`.stats`: reference statistics of training crops and the out-of-distribution check;
* :mod:`.prepare`: :func:`~.prepare.prepare_grid`, a corpus folder -> a prepared folder.
"""
