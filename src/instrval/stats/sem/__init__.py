"""Structural equation modelling shared by the factor analyses.

* :mod:`~instrval.stats.sem.common` -- the factor-mapping model, data, parameter rows and the
  :class:`~instrval.stats.sem.common.CFAResult` class every CFA returns;
* :mod:`~instrval.stats.sem.syntax` -- lavaan model syntax;
* :mod:`~instrval.stats.sem.partable` -- the parameter table (lavaan's defaults for ``cfa``,
  groups and ``group.equal``);
* :mod:`~instrval.stats.sem.ml` -- the maximum-likelihood estimator for one or more groups;
* :mod:`~instrval.stats.sem.fitmeasures` -- fit measures;
* :mod:`~instrval.stats.sem.invariance` -- multi-group measurement invariance.

Lower modules never import :mod:`instrval.stats.cfa` or :mod:`instrval.stats.cfa_ordinal`.
"""

__all__: list[str] = []
