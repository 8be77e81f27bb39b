// Ctm.Core: Consistency Trajectory Models on TorchSharp.
[assembly: System.CLSCompliant(false)]
