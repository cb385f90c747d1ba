"""Multiple systems estimation: how many people in all, from overlapping lists (no Django).

Three methods, re-implemented from their papers (the R packages are GPL):

- :mod:`~refugium.estimation.loglinear`: hierarchical log-linear models (Fienberg 1972) fitted
  as Poisson GLMs, ranked as Rcapture ranks them, with profile-likelihood intervals;
- :mod:`~refugium.estimation.lcmcr`: the Bayesian latent-class model of Manrique-Vallier
  (2016), the method of HRDAG's LCMCR;
- :mod:`~refugium.estimation.dga`: Bayesian model averaging over decomposable graphs
  (Madigan & York 1997), the method of HRDAG's dga.

All of them take a :class:`~refugium.estimation.table.CaptureTable` and return an
:class:`~refugium.estimation.result.Estimate`.
"""
