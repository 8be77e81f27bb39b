using TorchSharp;
using Xunit;
public class SmokeTests { [Fact] public void Torch() { using var x = torch.ones(3); Assert.Equal(3.0, x.sum().item<float>()); } }
