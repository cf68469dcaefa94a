from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pymongo.errors import PyMongoError

from convostore.migrations.run import drift

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The database is not reachable."}})
async def readyz(request: Request) -> JSONResponse:
    """The database answers a ping. On a database convostore does not migrate by itself,
    `drift` lists how its indexes and validators differ from the models."""
    database = request.app.state.database
    try:
        await database.command("ping")
        found_drift = {} if request.app.state.manages_schema else await drift(database)
    except PyMongoError:
        body = {"error": {"code": "database_unavailable", "message": "the database is not "
                          "reachable", "details": []}}
        return JSONResponse(body, status_code=503)
    body: dict = {"status": "ready", "database": "ok"}
    if found_drift:
        body["drift"] = found_drift
    return JSONResponse(body)
