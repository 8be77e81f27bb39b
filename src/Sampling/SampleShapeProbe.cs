using System;
using static TorchSharp.torch;

namespace Ctm.Core.Sampling;

/// <summary>
/// A sampler's one-time check that its sample shape fits the model: one forward pass on a zero batch, so a wrong
/// shape is an <see cref="ArgumentException"/> naming <c>sampleShape</c> at construction instead of a libtorch error
/// (with a C++ frame dump) in the middle of a sampling run.
/// </summary>
internal static class SampleShapeProbe
{
    // Two samples, not one: a network with batch norm in training mode rejects a batch of 1 for reasons that have
    // nothing to do with the shape.
    private const long ProbeBatch = 2;

    public static void Check(IDenoiser model, long[] sampleShape, string paramName)
    {
        var shape = new long[sampleShape.Length + 1];
        shape[0] = ProbeBatch;
        Array.Copy(sampleShape, 0, shape, 1, sampleShape.Length);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        try
        {
            var x = zeros(shape, dtype: model.DType, device: model.Device);
            var labels = model.NumClasses > 0 ? zeros(new[] { ProbeBatch }, dtype: ScalarType.Int64, device: model.Device) : null;
            if (model is ITrajectoryModel m) m.Jump(x, m.SigmaMax, m.SigmaMin, labels);   // both branches of F
            else model.Denoise(x, model.SigmaMax, labels);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
        {
            var first = e.Message.Split('\n')[0].Trim();
            throw new ArgumentException(
                $"sampleShape [{string.Join(", ", sampleShape)}] does not fit the model: a probe batch of shape [{string.Join(", ", shape)}] " +
                $"failed in its network ({e.GetType().Name}: {first}). Pass the shape of one sample as the network takes it, " +
                "without the batch dimension: e.g. [2] for 2-D points, [1, 28, 28] for 28×28 grey images.", paramName, e);
        }
    }
}
