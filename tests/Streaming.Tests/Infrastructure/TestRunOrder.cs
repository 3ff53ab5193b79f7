[assembly: TestCollectionOrderer("Streaming.Tests.Infrastructure.LongestFirstCollectionOrderer", "Streaming.Tests")]
