"""Synthetic example datasets, generated reproducibly from a seed.

* :mod:`instrval.datasets.iam`: a rating export of the Information Assessment Method
  shaped like the published 2012 content-validation study (234,196 ratings by 5,596
  clinicians), with item selection counts fixed by construction.
"""
