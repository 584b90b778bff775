"""Autograd beyond backward(): higher-order derivatives, gradcheck, explain."""
