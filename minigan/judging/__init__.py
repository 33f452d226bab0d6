"""Judging and drawing what a GAN learned.

    metrics.py           modes covered, high-quality samples, Jensen-Shannon, Frechet distance
    digits_features.py   the learned judge of the digits (a small classifier, cached)
    plot.py              losses, D(x) over the data, samples, the training GIF
    plot_categorical.py  learned vs true symbol frequencies
    results.py           a finished run's metrics.json and figures
"""
