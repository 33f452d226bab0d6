"""minigan lab: watch and steer minigan's own Algorithm 1, live, in the browser.

    python -m minigan.lab              # prints "minigan lab: http://127.0.0.1:PORT/?token=..." and opens it

The page (plain HTML, CSS and JS in static/, no CDN, works offline) draws the real and the
generated samples, D(x) as a heatmap, G's manifold (a z-grid bent by G) and -grad_x of G's
loss on some fakes, with the model overview, charts, and controls: play, pause, one D step,
one G step, one iteration, slow motion, reset, the hyperparameters changed live, drawn data,
a "Python" panel with the code of the current run, and "Save run".

    settings.py   what the page can set, the datasets, the GANConfig they make
    frames.py     what the page draws, computed with minigan (D, G and autograd)
    worker.py     the one thread that owns the GAN: training (update by update when slow), frames
    commands.py   what each click does, and the answer the server gives it at once
    recording.py  what the worker records: chart rows, training.gif's frames
    history.py    the charts kept by the server, thinned, for a page that (re)connects
    saving.py     "Save run": a run folder like the demo's, which gan.resume loads
    snippet.py    the "Python" panel's code
    server.py     aiohttp: the page's files and the WebSocket, behind a token
    __main__.py   the command line

The server needs aiohttp: ``pip install -e ".[lab]"``.
"""
