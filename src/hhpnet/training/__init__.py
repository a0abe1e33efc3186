"""The training and evaluation family: synthetic data, the torch network, training, data sets,
evaluation, the solvePnP baseline and the generator fit.

Runtime code (``import hhpnet``, prediction, video, interaction, export) never imports this
package — a test checks ``sys.modules`` after a prediction in a fresh process. The old flat
paths (``hhpnet.synth``, ``hhpnet.train``, …) still import the same modules.
"""
