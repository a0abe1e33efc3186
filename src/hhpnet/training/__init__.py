"""The training and evaluation family: synthetic data, the torch network, training, data sets,
evaluation, the solvePnP baseline and the generator fit.

Runtime code (``import hhpnet``, prediction, video, interaction, export) never imports this
package — a test checks ``sys.modules`` after a prediction in a fresh process. The old flat
paths still import the same modules, with a warning (:mod:`hhpnet._compat`).
"""
