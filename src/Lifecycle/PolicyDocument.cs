using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Streaming.Lifecycle;

/// <summary>
/// Reads a lifecycle policy from its YAML document (see <c>policies/cdc-migration.yaml</c>) and checks it whole: every
/// error names its line, column and field, and an unknown key is an error, so a typo never silently means a default.
/// </summary>
public static partial class PolicyDocument
{
    /// <summary>Most phases, gates and criteria per rule, so that checking a document stays cheap however it is written.</summary>
    public const int MostItems = 32;

    /// <summary>Most errors reported for one document; further ones are summed up in one last error.</summary>
    public const int MostErrors = 50;

    public static PolicyParseResult Parse(string text, int version)
    {
        if (PolicyTextBudget.Check(text) is { } overBudget)
        {
            return new PolicyParseResult(null, [overBudget]);
        }
        YamlStream stream = [];
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            return new PolicyParseResult(null, [new PolicyError((int)e.Start.Line, (int)e.Start.Column, "document", e.InnerException?.Message ?? e.Message)]);
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            return new PolicyParseResult(null, [new PolicyError(1, 1, "document", "expected one YAML document holding a mapping")]);
        }
        var reader = new Reader();
        var policy = reader.Policy(root, version);
        return reader.Errors.Count == 0 ? new PolicyParseResult(policy, []) : new PolicyParseResult(null, reader.Errors);
    }

    [GeneratedRegex("^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$")]
    private static partial Regex PolicyName();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
    private static partial Regex PhaseName();

    delegate bool TryParse<T>(string? text, out T value);

    sealed partial class Reader
    {
        public List<PolicyError> Errors { get; } = [];

        public LifecyclePolicy? Policy(YamlMappingNode root, int version)
        {
            var fields = Fields(root, "", ["name", "description", "priority", "selector", "phases", "quarantine", "acknowledgement", "stuck", "priorityLabel", "gates",
                "silence", "silenceAction", "windows", "pauseDemotions", "windowDemotions"]);
            var name = Required(fields, root, "name", "", Text);
            if (name is not null && !PolicyName().IsMatch(name))
            {
                Error(fields["name"], "name", "must be lowercase letters, digits, '.', '_' or '-' (at most 64)");
            }
            fields.TryGetValue("description", out var description);
            if (description is not null)
            {
                Text(description, "description");
            }
            var priority = fields.TryGetValue("priority", out var priorityNode) ? Integer(priorityNode, "priority", int.MinValue) ?? 0 : 0;
            var selector = fields.TryGetValue("selector", out var selectorNode) ? Selector(selectorNode) : LabelSelector.Everything;
            var phases = Required(fields, root, "phases", "", Phases) ?? [];
            var quarantine = fields.TryGetValue("quarantine", out var quarantineNode) ? Quarantine(quarantineNode) : null;
            var gates = Required(fields, root, "gates", "", (node, path) => Gates(node, path, phases)) ?? [];
            TimeSpan? acknowledgeWithin = null;
            if (fields.TryGetValue("acknowledgement", out var acknowledgementNode))
            {
                var acknowledgement = Fields(acknowledgementNode, "acknowledgement", ["within"]);
                acknowledgeWithin = Required(acknowledgement, acknowledgementNode, "within", "acknowledgement", (n, p) => Duration(n, p, positive: true));
            }
            var stuckAfterSoaks = LifecyclePolicy.DefaultStuckAfterSoaks;
            if (fields.TryGetValue("stuck", out var stuckNode))
            {
                var stuck = Fields(stuckNode, "stuck", ["afterSoaks"]);
                stuckAfterSoaks = Required(stuck, stuckNode, "afterSoaks", "stuck", (n, p) => Integer(n, p, 1)) ?? stuckAfterSoaks;
            }
            var priorityLabel = fields.TryGetValue("priorityLabel", out var labelNode) ? Text(labelNode, "priorityLabel") : null;
            var controls = Controls(fields);
            return Errors.Count == 0
                ? new LifecyclePolicy(name!, version, phases, gates, quarantine, selector ?? LabelSelector.Everything, priority,
                    acknowledgeWithin, stuckAfterSoaks, priorityLabel ?? LifecyclePolicy.DefaultPriorityLabel, controls)
                : null;
        }

        LabelSelector? Selector(YamlNode node)
        {
            var fields = Fields(node, "selector", ["matchLabels"]);
            if (!fields.TryGetValue("matchLabels", out var labelsNode))
            {
                return LabelSelector.Everything;
            }
            if (labelsNode is not YamlMappingNode labels)
            {
                Error(labelsNode, "selector.matchLabels", "expected a mapping of label names to values");
                return null;
            }
            var matches = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in labels.Children)
            {
                var label = Text(key, "selector.matchLabels");
                var expected = Text(value, $"selector.matchLabels.{label}");
                if (label is not null && expected is not null)
                {
                    matches[label] = expected;
                }
            }
            return new LabelSelector(matches);
        }

        IReadOnlyList<string>? Phases(YamlNode node, string path)
        {
            if (node is not YamlSequenceNode sequence)
            {
                Error(node, path, "expected a list of phase names");
                return null;
            }
            if (TooMany(sequence, path, "phases"))
            {
                return null;
            }
            var phases = new List<string>();
            for (var i = 0; i < sequence.Children.Count; i++)
            {
                var item = sequence.Children[i];
                if (Text(item, $"{path}[{i}]") is not { } phase)
                {
                    continue;
                }
                if (!PhaseName().IsMatch(phase))
                {
                    Error(item, $"{path}[{i}]", $"'{phase}' is not a phase name (a letter, then letters, digits, '_' or '-')");
                }
                else if (phases.Contains(phase))
                {
                    Error(item, $"{path}[{i}]", $"phase '{phase}' is listed twice");
                }
                phases.Add(phase);
            }
            if (phases.Count < 2)
            {
                Error(node, path, "a policy needs at least two phases");
            }
            return phases;
        }

        QuarantineRule? Quarantine(YamlNode node)
        {
            var fields = Fields(node, "quarantine", ["maxPhaseChanges", "within"]);
            var changes = Required(fields, node, "maxPhaseChanges", "quarantine", (n, p) => Integer(n, p, 2, QuarantineRule.MostChanges));
            var within = Required(fields, node, "within", "quarantine", (n, p) => Duration(n, p, positive: true));
            return changes is { } c && within is { } w ? new QuarantineRule(c, w) : null;
        }

        IReadOnlyList<PhaseGate>? Gates(YamlNode node, string path, IReadOnlyList<string> phases)
        {
            if (node is not YamlSequenceNode sequence)
            {
                Error(node, path, "expected a list of gates");
                return null;
            }
            if (TooMany(sequence, path, "gates"))
            {
                return null;
            }
            var gates = new List<PhaseGate>();
            for (var i = 0; i < sequence.Children.Count; i++)
            {
                if (Gate(sequence.Children[i], $"{path}[{i}]", phases) is not { } gate)
                {
                    continue;
                }
                if (gates.Any(g => g.From == gate.From))
                {
                    Error(sequence.Children[i], $"{path}[{i}].from", $"phase '{gate.From}' already has a gate");
                }
                gates.Add(gate);
            }
            return gates;
        }

        PhaseGate? Gate(YamlNode node, string path, IReadOnlyList<string> phases)
        {
            var fields = Fields(node, path, ["from", "to", "soak", "promote", "demote", "wave", "breaker", "approval"]);
            var from = Required(fields, node, "from", path, Text);
            var to = Required(fields, node, "to", path, Text);
            if (from is not null && to is not null)
            {
                var index = Array.IndexOf([.. phases], from);
                if (index < 0)
                {
                    Error(fields["from"], $"{path}.from", $"'{from}' is not one of the policy's phases ({string.Join(", ", phases)})");
                }
                else if (index + 1 >= phases.Count || phases[index + 1] != to)
                {
                    Error(fields["to"], $"{path}.to",
                        index + 1 < phases.Count ? $"a gate leads to the next phase: '{from}' → '{phases[index + 1]}', not '{to}'" : $"'{from}' is the last phase");
                }
            }
            var soak = fields.TryGetValue("soak", out var soakNode) ? Duration(soakNode, $"{path}.soak", positive: false) : TimeSpan.Zero;
            var promote = Required(fields, node, "promote", path, (n, p) => Rule(n, p, needsCriteria: false));
            var demote = fields.TryGetValue("demote", out var demoteNode) ? Rule(demoteNode, $"{path}.demote", needsCriteria: true) : null;
            if (promote is not null && demote is not null)
            {
                Hysteresis(fields["demote"], $"{path}.demote", promote, demote);
            }
            var wave = fields.TryGetValue("wave", out var waveNode) ? Wave(waveNode, $"{path}.wave") : null;
            var breaker = fields.TryGetValue("breaker", out var breakerNode) ? Breaker(breakerNode, $"{path}.breaker") : null;
            var approval = fields.TryGetValue("approval", out var approvalNode) && Approval(approvalNode, $"{path}.approval");
            return from is null || to is null || soak is null || promote is null ? null : new PhaseGate(from, to, soak.Value, promote, demote, wave, breaker, approval);
        }

        bool Approval(YamlNode node, string path) => Text(node, path) switch
        {
            "required" => true,
            "none" or null => false,
            var other => Invalid<bool>(node, path, $"'{other}' is not an approval rule (required or none)") ?? false,
        };

        WaveRule? Wave(YamlNode node, string path)
        {
            var fields = Fields(node, path, ["maxInFlight", "maxPerHour"]);
            var inFlight = fields.TryGetValue("maxInFlight", out var inFlightNode) ? Integer(inFlightNode, $"{path}.maxInFlight", 1) : null;
            var perHour = fields.TryGetValue("maxPerHour", out var perHourNode) ? Integer(perHourNode, $"{path}.maxPerHour", 1) : null;
            if (inFlightNode is null && perHourNode is null)
            {
                Error(node, path, "a wave needs maxInFlight, maxPerHour or both");
            }
            return new WaveRule(inFlight, perHour);
        }

        BreakerRule? Breaker(YamlNode node, string path)
        {
            var fields = Fields(node, path, ["maxDemotionShare", "window", "minJobs"]);
            var share = Required(fields, node, "maxDemotionShare", path, Number);
            if (share is { } s && (s <= 0 || s > 1))
            {
                Error(fields["maxDemotionShare"], $"{path}.maxDemotionShare", "must be a share above 0 and at most 1 (0.05 is 5%)");
            }
            var window = fields.TryGetValue("window", out var windowNode) ? Duration(windowNode, $"{path}.window", positive: true) : TimeSpan.FromHours(1);
            var minJobs = fields.TryGetValue("minJobs", out var minJobsNode) ? Integer(minJobsNode, $"{path}.minJobs", 1) : 10;
            return share is { } maxShare && window is { } w && minJobs is { } m ? new BreakerRule(maxShare, w, m) : null;
        }

        GateRule? Rule(YamlNode node, string path, bool needsCriteria)
        {
            var fields = Fields(node, path, ["window", "after", "minSamples", "missing", "criteria"]);
            var window = Required(fields, node, "window", path, (n, p) => Duration(n, p, positive: true));
            var after = fields.TryGetValue("after", out var afterNode) ? Integer(afterNode, $"{path}.after", 1) : 1;
            var minSamples = fields.TryGetValue("minSamples", out var samplesNode) ? Integer(samplesNode, $"{path}.minSamples", 1) : 1;
            var missing = fields.TryGetValue("missing", out var missingNode) ? Missing(missingNode, $"{path}.missing") : MissingData.Hold;
            IReadOnlyList<Criterion> criteria = [];
            if (fields.TryGetValue("criteria", out var criteriaNode))
            {
                criteria = Criteria(criteriaNode, $"{path}.criteria", minSamples ?? 1, missing ?? MissingData.Hold) ?? [];
            }
            if (needsCriteria && criteria.Count == 0)
            {
                Error(node, $"{path}.criteria", "a demote rule needs at least one criterion");
            }
            return window is { } w && after is { } a ? new GateRule(w, a, criteria) : null;
        }

        IReadOnlyList<Criterion>? Criteria(YamlNode node, string path, int minSamples, MissingData missing)
        {
            if (node is not YamlSequenceNode sequence)
            {
                Error(node, path, "expected a list of criteria");
                return null;
            }
            if (TooMany(sequence, path, "criteria"))
            {
                return null;
            }
            var criteria = new List<Criterion>();
            for (var i = 0; i < sequence.Children.Count; i++)
            {
                if (Criterion(sequence.Children[i], $"{path}[{i}]", minSamples, missing) is { } criterion)
                {
                    criteria.Add(criterion);
                }
            }
            return criteria;
        }

        Criterion? Criterion(YamlNode node, string path, int defaultMinSamples, MissingData defaultMissing)
        {
            var fields = Fields(node, path, ["metric", "aggregation", "comparison", "threshold", "minSamples", "missing"]);
            var metric = Required(fields, node, "metric", path, Text);
            var aggregation = Required(fields, node, "aggregation", path, Aggregation);
            var comparison = Required(fields, node, "comparison", path, Comparison);
            var threshold = Required(fields, node, "threshold", path, Number);
            var minSamples = fields.TryGetValue("minSamples", out var samplesNode) ? Integer(samplesNode, $"{path}.minSamples", 1) : defaultMinSamples;
            var missing = fields.TryGetValue("missing", out var missingNode) ? Missing(missingNode, $"{path}.missing") : defaultMissing;
            return metric is not null && aggregation is { } a && comparison is { } c && threshold is { } t && minSamples is { } m && missing is { } d
                ? new Criterion(MetricNames.Intern(metric), a, c, t, m, d)
                : null;
        }

        // A demote threshold stricter than the promote threshold on the same measure would demote what it just promoted.
        void Hysteresis(YamlNode node, string path, GateRule promote, GateRule demote)
        {
            for (var i = 0; i < demote.Criteria.Count; i++)
            {
                var down = demote.Criteria[i];
                foreach (var up in promote.Criteria)
                {
                    if (up.Metric == down.Metric && up.Aggregation == down.Aggregation && up.Comparison == down.Comparison && !up.IsNoLooserThan(down))
                    {
                        Error(node, $"{path}.criteria[{i}].threshold",
                            $"demote threshold {Format(down.Threshold)} is stricter than the promote threshold {Format(up.Threshold)} for {Aggregations.Name(up.Aggregation)} {up.Metric}: a promoted job would be demoted at once");
                    }
                }
            }
        }

        Aggregation? Aggregation(YamlNode node, string path) =>
            OneOf<Aggregation>(node, path, Aggregations.TryParse, $"is not an aggregation ({Aggregations.Known})");

        Comparison? Comparison(YamlNode node, string path) =>
            OneOf<Comparison>(node, path, ComparisonSymbols.TryParse, "is not a comparison (<=, <, >=, >)");

        T? OneOf<T>(YamlNode node, string path, TryParse<T> parse, string otherwise) where T : struct
        {
            var text = Text(node, path);
            if (text is null)
            {
                return null;
            }
            return parse(text, out var value) ? value : Invalid<T>(node, path, $"'{text}' {otherwise}");
        }

        MissingData? Missing(YamlNode node, string path) => Text(node, path) switch
        {
            null => null,
            "hold" => MissingData.Hold,
            "fail" => MissingData.Fail,
            "ignore" => MissingData.Ignore,
            var other => Invalid<MissingData>(node, path, $"'{other}' is not a missing-data rule (hold, fail, ignore)"),
        };

        TimeSpan? Duration(YamlNode node, string path, bool positive)
        {
            var text = Text(node, path);
            if (text is null)
            {
                return null;
            }
            if (!PolicyDurations.TryParse(text, out var duration))
            {
                return Invalid<TimeSpan>(node, path, $"'{text}' is not a duration ({PolicyDurations.Rule})");
            }
            return positive && duration <= TimeSpan.Zero ? Invalid<TimeSpan>(node, path, "must be longer than zero") : duration;
        }

        int? Integer(YamlNode node, string path, int min, int max = int.MaxValue)
        {
            var text = Text(node, path);
            if (text is null)
            {
                return null;
            }
            if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                return Invalid<int>(node, path, $"'{text}' is not a whole number");
            }
            return value < min || value > max
                ? Invalid<int>(node, path, max == int.MaxValue ? $"must be at least {min}" : $"must be from {min} to {max}")
                : value;
        }

        double? Number(YamlNode node, string path)
        {
            var text = Text(node, path);
            if (text is null)
            {
                return null;
            }
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
                ? value
                : Invalid<double>(node, path, $"'{text}' is not a number");
        }

        string? Text(YamlNode node, string path)
        {
            if (node is YamlScalarNode { Value: { Length: > 0 } value })
            {
                return value;
            }
            Error(node, path, node is YamlScalarNode ? "must not be empty" : "expected a single value");
            return null;
        }

        T? Required<T>(Dictionary<string, YamlNode> fields, YamlNode parent, string key, string path, Func<YamlNode, string, T?> read)
        {
            var field = path.Length == 0 ? key : $"{path}.{key}";
            if (fields.TryGetValue(key, out var node))
            {
                return read(node, field);
            }
            Error(parent, field, "is required");
            return default;
        }

        Dictionary<string, YamlNode> Fields(YamlNode node, string path, string[] known)
        {
            var fields = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
            if (node is not YamlMappingNode mapping)
            {
                Error(node, path.Length == 0 ? "document" : path, "expected a mapping");
                return fields;
            }
            foreach (var (keyNode, value) in mapping.Children)
            {
                var key = (keyNode as YamlScalarNode)?.Value ?? "";
                var field = path.Length == 0 ? key : $"{path}.{key}";
                if (!known.Contains(key, StringComparer.Ordinal))
                {
                    Error(keyNode, field, $"unknown field (known here: {string.Join(", ", known)})");
                }
                else if (!fields.TryAdd(key, value))
                {
                    Error(keyNode, field, "is given twice");
                }
            }
            return fields;
        }

        T? Invalid<T>(YamlNode node, string path, string message) where T : struct
        {
            Error(node, path, message);
            return null;
        }

        void Error(YamlNode node, string path, string message)
        {
            if (Errors.Count < MostErrors)
            {
                Errors.Add(new PolicyError((int)node.Start.Line, (int)node.Start.Column, path, message));
            }
            else if (Errors.Count == MostErrors)
            {
                Errors.Add(new PolicyError((int)node.Start.Line, (int)node.Start.Column, "document", $"more errors after the first {MostErrors} are not listed"));
            }
        }

        bool TooMany(YamlSequenceNode sequence, string path, string what)
        {
            if (sequence.Children.Count <= MostItems)
            {
                return false;
            }
            Error(sequence, path, $"at most {MostItems} {what}");
            return true;
        }

        static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
    }
}
