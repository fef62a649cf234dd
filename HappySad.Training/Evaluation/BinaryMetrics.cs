namespace HappySad.Training.Evaluation;

/// <summary>
/// Confusion counts for the positive class (index 1, <c>sad</c> in the notebook) and the metrics
/// derived from them. A metric whose denominator is zero is reported as 0, as Keras does.
/// </summary>
public sealed record BinaryMetrics(int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives)
{
    public int Count => TruePositives + FalsePositives + TrueNegatives + FalseNegatives;
    public double Accuracy => Ratio(TruePositives + TrueNegatives, Count);
    public double Precision => Ratio(TruePositives, TruePositives + FalsePositives);
    public double Recall => Ratio(TruePositives, TruePositives + FalseNegatives);
    public double Specificity => Ratio(TrueNegatives, TrueNegatives + FalsePositives);
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);

    /// <summary>The mean of recall and specificity: 0.5 for a model that always answers one class, whatever the class balance.</summary>
    public double BalancedAccuracy => (Recall + Specificity) / 2;

    public static BinaryMetrics FromLabels(IReadOnlyList<int> actual, IReadOnlyList<int> predicted)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        if (actual.Count != predicted.Count)
            throw new ArgumentException("actual and predicted labels must have the same length");
        int tp = 0, fp = 0, tn = 0, fn = 0;
        for (var i = 0; i < actual.Count; i++)
        {
            switch (actual[i], predicted[i])
            {
                case (1, 1): tp++; break;
                case (0, 1): fp++; break;
                case (0, 0): tn++; break;
                case (1, 0): fn++; break;
                default: throw new ArgumentException($"labels must be 0 or 1 (got {actual[i]} and {predicted[i]})");
            }
        }
        return new BinaryMetrics(tp, fp, tn, fn);
    }

    static double Ratio(int numerator, int denominator) => denominator == 0 ? 0 : (double)numerator / denominator;
}
