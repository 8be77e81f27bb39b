using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctm.Core.Training;

/// <summary>
/// The official CTM student initialisation (<c>cm_train.py</c>): every student parameter whose name and shape match a
/// teacher parameter is copied from the teacher; the s-branch keeps its fresh initialisation.
/// </summary>
public static class StudentInitialization
{
    /// <summary>Copies matching weights from <paramref name="teacher"/> into <paramref name="student"/>.</summary>
    /// <param name="student">The CTM network (written).</param>
    /// <param name="teacher">The teacher network (read).</param>
    /// <returns>The copied keys and the keys left fresh.</returns>
    public static (IReadOnlyList<string> Copied, IReadOnlyList<string> Fresh) FromTeacher(nn.Module student, nn.Module teacher)
    {
        if (student is null) throw new ArgumentNullException(nameof(student));
        if (teacher is null) throw new ArgumentNullException(nameof(teacher));
        var source = teacher.state_dict();
        var copied = new List<string>();
        var fresh = new List<string>();
        using var noGrad = no_grad();
        foreach (var (name, tensor) in student.state_dict())
        {
            if (source.TryGetValue(name, out var t) && t.shape.SequenceEqual(tensor.shape))
            {
                tensor.copy_(t);
                copied.Add(name);
            }
            else fresh.Add(name);
        }
        if (copied.Count == 0)
            throw new ArgumentException("No parameter name of the student matches the teacher's; are these the CTM and EDM versions of the same network?", nameof(teacher));
        return (copied, fresh);
    }
}
