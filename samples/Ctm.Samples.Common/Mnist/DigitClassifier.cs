using System;
using System.Linq;
using TorchSharp;
using Ctm.Core.Networks;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctm.Samples.Mnist;

/// <summary>
/// A small CNN for [B, 1, S, S] digits in [−1, 1]; its 128-d penultimate activations are the feature space of the
/// Fréchet distance reported for MNIST samples (an "FID" with an MNIST network instead of Inception).
/// </summary>
public sealed class DigitClassifier : nn.Module<Tensor, Tensor>
{
    private readonly Sequential convs;
    private readonly Linear fc;
    private readonly Linear head;
    private Generator? _dropoutGenerator; // set only while training: dropout draws from it, not the global RNG
    private const double DropoutRate = 0.3;

    /// <summary>Builds the network; <paramref name="generator"/> draws the initial weights (PyTorch's default ranges).</summary>
    public DigitClassifier(int size, Generator generator) : base(nameof(DigitClassifier))
    {
        int r = (size + 3) / 4;
        convs = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding: 1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride: 2, padding: 1), nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride: 2, padding: 1), nn.ReLU(),
            nn.Flatten());
        fc = nn.Linear(64 * r * r, 128);
        head = nn.Linear(128, 10);
        RegisterComponents();
        // Re-draw every weight from the caller's generator so two runs with one seed share one feature network.
        DefaultInit.Redraw(this, generator);
    }

    private Tensor Penultimate(Tensor x)
    {
        var h = convs.call(x);
        if (training && _dropoutGenerator is not null)
        {
            using var keep = rand(h.shape, generator: _dropoutGenerator, device: h.device).ge(DropoutRate);
            h = h * keep / (1 - DropoutRate);
        }
        return nn.functional.relu(fc.call(h));
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return head.call(Penultimate(x)).MoveToOuterDisposeScope();
    }

    /// <summary>Penultimate features [B, 128] (eval mode, no grad), computed in batches.</summary>
    public Tensor Features(Tensor x, int batch = 500)
    {
        eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope(); // the per-batch slices and activations die here
        var parts = Enumerable.Range(0, (int)((x.shape[0] + batch - 1) / batch))
            .Select(i => Penultimate(x.narrow(0, i * batch, Math.Min(batch, x.shape[0] - i * batch)))).ToArray();
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    /// <summary>Predicted class ids [B].</summary>
    public Tensor Predict(Tensor x, int batch = 500)
    {
        eval();
        using var noGrad = no_grad();
        using var f = Features(x, batch);
        using var logits = head.call(f);
        return logits.argmax(1);
    }

    /// <summary>Fraction of <paramref name="x"/> classified as <paramref name="labels"/>.</summary>
    public double Accuracy(Tensor x, Tensor labels)
    {
        using var pred = Predict(x);
        using var eq = pred.eq(labels).to_type(ScalarType.Float64);
        return eq.mean().item<double>();
    }

    /// <summary>Adam training with light random shifts (±1 px) for <paramref name="epochs"/> epochs.</summary>
    public void Train(Tensor x, Tensor labels, int epochs, int batch, Generator g, Action<int, double>? onEpoch = null)
    {
        using var opt = optim.Adam(parameters(), 1e-3);
        _dropoutGenerator = g;
        try
        {
            long n = x.shape[0];
            for (int e = 0; e < epochs; e++)
            {
                train();
                using var perm = randperm(n, generator: g);
                double total = 0; int batches = 0;
                for (long i = 0; i + batch <= n; i += batch)
                {
                    using var scope = NewDisposeScope();
                    var idx = perm.narrow(0, i, batch);
                    var xb = x.index_select(0, idx);
                    long dx = randint(-1, 2, new long[] { 1 }, generator: g).item<long>(), dy = randint(-1, 2, new long[] { 1 }, generator: g).item<long>();
                    xb = xb.roll(new[] { dx, dy }, new long[] { 2, 3 });
                    var loss = nn.functional.cross_entropy(call(xb), labels.index_select(0, idx));
                    opt.zero_grad();
                    loss.backward();
                    opt.step();
                    total += loss.item<float>(); batches++;
                }
                onEpoch?.Invoke(e + 1, total / Math.Max(batches, 1));
            }
        }
        finally { _dropoutGenerator = null; } // the generator is the caller's: never keep it past this call
        eval();
    }
}
