namespace Streaming.Tests.Surface;

/// <summary>The API and browser tests share one running system (starting it is most of their cost).</summary>
[CollectionDefinition(Name)]
public sealed class SurfaceCollection : ICollectionFixture<SurfaceSystem>
{
    public const string Name = "surface";
}
