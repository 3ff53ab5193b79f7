using System.Globalization;

namespace Streaming.Bench;

/// <summary>
/// The bench's command lines: <c>--name value</c> pairs and the switches a command declares (<c>--name</c> alone). Anything
/// it cannot read is a <see cref="BenchUsageException"/>.
/// </summary>
public sealed class BenchFlags
{
    readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    readonly HashSet<string> _switches = new(StringComparer.Ordinal);

    public BenchFlags(string[] args, params string[] switches)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new BenchUsageException($"unexpected '{args[i]}'");
            }
            var name = args[i][2..];
            if (switches.Contains(name))
            {
                _switches.Add(name);
            }
            else if (i + 1 < args.Length)
            {
                _values[name] = args[++i];
            }
            else
            {
                throw new BenchUsageException($"--{name} needs a value");
            }
        }
    }

    public bool Has(string @switch) => _switches.Contains(@switch);

    public string? Text(string name) => _values.GetValueOrDefault(name);

    public string Text(string name, string fallback) => _values.GetValueOrDefault(name, fallback);

    public string Required(string name) => Text(name) ?? throw new BenchUsageException($"--{name} is required");

    public int Number(string name, int fallback, int least = int.MinValue)
    {
        if (!_values.TryGetValue(name, out var text))
        {
            return fallback;
        }
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
        {
            throw new BenchUsageException($"--{name} is a whole number, not '{text}'");
        }
        return number >= least ? number : throw new BenchUsageException($"--{name} must be at least {least}");
    }

    /// <summary>Refuses a flag with a value that is not one of <paramref name="known"/>.</summary>
    public void RefuseUnknown(params string[] known)
    {
        if (_values.Keys.Except(known).FirstOrDefault() is { } unknown)
        {
            throw new BenchUsageException($"unknown flag --{unknown}");
        }
    }
}
