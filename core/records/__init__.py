"""The three base tables (三张表): people, houses and organisations."""
